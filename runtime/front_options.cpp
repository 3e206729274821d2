#include "runtime/front_options.hpp"

#include "runtime/node_rows.hpp"

namespace dine {

using namespace node_rows;

config_table<node_config> http_options() {
  return {
      {"http-host", "address the HTTP port binds", "a host name",
       [](node_config& c, const std::string& v) {
         c.http.host = v;
         return !v.empty();
       },
       if_http([](const http_settings& h) -> opt { return h.host; })},
      {"http-port", "HTTP front door port (0 = any free port; unset = off)",
       "a port (0-65535)",
       [](node_config& c, const std::string& v) {
         c.http.enabled = true;
         return parse_uint(v, c.http.port, 0, 65535);
       },
       if_http([](const http_settings& h) -> opt { return num(h.port); })},
      {"http-max-connections", "HTTP connections served at once",
       "an integer 1-1000000",
       [](node_config& c, const std::string& v) {
         return parse_uint(v, c.http.max_connections, 1, 1000000);
       },
       if_http([](const http_settings& h) -> opt {
         return num(h.max_connections);
       })},
      {"http-max-body-bytes", "largest HTTP request body (413 above)",
       "an integer 64-1073741824",
       [](node_config& c, const std::string& v) {
         return parse_uint(v, c.http.max_body_bytes, 64, 1u << 30);
       },
       if_http([](const http_settings& h) -> opt {
         return num(h.max_body_bytes);
       })},
      {"http-max-header-bytes", "largest HTTP request header (431 above)",
       "an integer 256-1048576",
       [](node_config& c, const std::string& v) {
         return parse_uint(v, c.http.max_header_bytes, 256, 1u << 20);
       },
       if_http([](const http_settings& h) -> opt {
         return num(h.max_header_bytes);
       })},
      {"http-idle-timeout-ms",
       "longest time to read one HTTP request or wait for the next",
       "milliseconds 10-3600000",
       [](node_config& c, const std::string& v) {
         return parse_ms(v, c.http.idle_timeout, 10, 3600000);
       },
       if_http([](const http_settings& h) -> opt {
         return num(h.idle_timeout.count());
       })},
      {"http-job-ttl-ms", "how long an async job's result is kept",
       "milliseconds 1-86400000",
       [](node_config& c, const std::string& v) {
         return parse_ms(v, c.http.job_ttl, 1, 86400000);
       },
       if_http([](const http_settings& h) -> opt {
         return num(h.job_ttl.count());
       })},
      {"http-max-jobs", "async jobs held at once (429 above)",
       "an integer 1-10000000",
       [](node_config& c, const std::string& v) {
         return parse_uint(v, c.http.max_jobs, 1, 10000000);
       },
       if_http([](const http_settings& h) -> opt { return num(h.max_jobs); })},
      {"http-ready-models",
       "models /health/ready needs a healthy worker for (comma-separated)",
       "a comma-separated list of model names",
       [](node_config& c, const std::string& v) {
         c.http.ready_models = split_list(v);
         return !c.http.ready_models.empty();
       },
       if_http([](const http_settings& h) -> opt {
         if (h.ready_models.empty())
           return std::nullopt;
         std::string rm;
         for (auto& m : h.ready_models)
           rm += (rm.empty() ? "" : ",") + m;
         return rm;
       })},
  };
}

config_table<node_config> client_port_options() {
  return {
      {"max-frame-bytes", "largest accepted client frame body",
       "an integer 64-1073741824",
       uint_setter(&node_config::max_frame, 64, 1u << 30),
       uint_shower(&node_config::max_frame)},
      {"max-node-frame",
       "largest inter-node (BASP) payload read; a larger header drops the "
       "connection",
       "an integer 65536-1073741824",
       uint_setter(&node_config::max_node_frame, 65536, 1u << 30),
       uint_shower(&node_config::max_node_frame)},
      {"max-inflight-per-connection",
       "requests in flight per client connection before reading pauses",
       "an integer 1-1000000",
       uint_setter(&node_config::max_inflight_per_connection, 1, 1000000),
       uint_shower(&node_config::max_inflight_per_connection)},
      {"max-connections",
       "client connections in total; more are refused (0 = no limit)",
       "an integer 0-1000000",
       uint_setter(&node_config::max_connections, 0, 1000000),
       uint_shower(&node_config::max_connections)},
      {"max-connections-per-address",
       "client connections from one address (0 = no limit)",
       "an integer 0-1000000",
       uint_setter(&node_config::max_connections_per_address, 0, 1000000),
       uint_shower(&node_config::max_connections_per_address)},
      {"memory-budget-bytes",
       "buffered client request+reply bytes in total; past it the largest "
       "connections are closed (0 = no budget)",
       "an integer 0 or 1048576-1099511627776",
       [](node_config& c, const std::string& v) {
         return parse_uint(v, c.memory_budget, 0, 1ull << 40) &&
                (c.memory_budget == 0 || c.memory_budget >= (1u << 20));
       },
       uint_shower(&node_config::memory_budget)},
      {"client-handshake-timeout-ms",
       "longest TLS handshake on the client and HTTPS ports; then the "
       "connection is closed",
       "milliseconds 10-3600000",
       ms_setter(&node_config::client_handshake_timeout, 10, 3600000),
       ms_shower(&node_config::client_handshake_timeout)},
      {"client-frame-timeout-ms",
       "longest time one client frame may take from its first byte to its "
       "last; then the connection is closed",
       "milliseconds 10-3600000",
       ms_setter(&node_config::client_frame_timeout, 10, 3600000),
       ms_shower(&node_config::client_frame_timeout)},
      {"api-keys-file",
       "file of `admin KEY` / `user KEY` lines; clients must send a hello "
       "with a key",
       "a file name",
       [](node_config& c, const std::string& v) {
         c.api_keys_file = v;
         return !v.empty();
       },
       str_shower(&node_config::api_keys_file)},
  };
}

} // namespace dine
