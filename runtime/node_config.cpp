#include "runtime/node_config.hpp"

#include "runtime/config_parse.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "messages/errc.hpp"
#include "runtime/generative_config.hpp"
#include "runtime/stage_models.hpp"

namespace dine {

namespace {

using opt = std::optional<std::string>;
using setter = std::function<bool(node_config&, const std::string&)>;
using shower = std::function<opt(const node_config&)>;

template <class T>
std::string num(T x) {
  return std::to_string(x);
}

setter ms_setter(std::chrono::milliseconds node_config::*m, uint64_t lo,
                 uint64_t hi) {
  return [=](node_config& c, const std::string& v) {
    return parse_ms(v, c.*m, lo, hi);
  };
}

shower ms_shower(std::chrono::milliseconds node_config::*m) {
  return [=](const node_config& c) -> opt { return num((c.*m).count()); };
}

template <class T>
setter uint_setter(T node_config::*m, uint64_t lo, uint64_t hi) {
  return [=](node_config& c, const std::string& v) {
    return parse_uint(v, c.*m, lo, hi);
  };
}

template <class T>
shower uint_shower(T node_config::*m) {
  return [=](const node_config& c) -> opt { return num(c.*m); };
}

/// Shows a string member unless it is empty.
shower str_shower(std::string node_config::*m) {
  return [=](const node_config& c) -> opt {
    if ((c.*m).empty())
      return std::nullopt;
    return c.*m;
  };
}

/// Shows an HTTP key only while the HTTP front door is on.
template <class F>
shower if_http(F f) {
  return [f](const node_config& c) -> opt {
    if (!c.http.enabled)
      return std::nullopt;
    return f(c.http);
  };
}

std::string roles_text(const node_config& c) {
  std::string roles;
  auto role = [&](const char* r) {
    roles += (roles.empty() ? "" : ",") + std::string{r};
  };
  if (c.coordinator && c.worker)
    role("all");
  else if (c.coordinator)
    role("coordinator");
  else if (c.worker && !c.preproc_role && !c.postproc_role)
    role("worker");
  if (c.preproc_role)
    role("preproc");
  if (c.postproc_role)
    role("postproc");
  if (c.cache_role)
    role("cache");
  return roles;
}

bool set_roles(node_config& c, const std::string& v) {
  auto roles = split_list(v);
  if (roles.empty())
    return false;
  c.coordinator = c.worker = c.cache_role = false;
  c.preproc_role = c.postproc_role = false;
  for (auto& r : roles) {
    if (r == "all")
      c.coordinator = c.worker = true;
    else if (r == "cache")
      c.cache_role = true;
    else if (r == "coordinator")
      c.coordinator = true;
    else if (r == "worker")
      c.worker = true;
    else if (r == "preproc")
      c.worker = c.preproc_role = true;
    else if (r == "postproc")
      c.worker = c.postproc_role = true;
    else
      return false;
  }
  // A pool process serves stages only: not beside a coordinator or a
  // model worker in one process (`all` runs the stages locally anyway).
  if ((c.preproc_role || c.postproc_role) &&
      (c.coordinator ||
       std::find(roles.begin(), roles.end(), "worker") != roles.end()))
    return false;
  return true;
}

/// The generative shorthand `--checkpoint` / `--tokenizer`: printed by
/// `--check` as keys of model `transformer`, not as node keys.
config_option<node_config> shorthand_row(const char* key, const char* help) {
  return {key, help, "a file path",
          [key](node_config& c, const std::string& v) {
            return set_generative_shorthand(c.model_table, c.models, key, v);
          },
          nullptr};
}

config_table<node_config> make_node_options() {
  config_table<node_config> table = {
      {"role",
       "coordinator | worker | cache | all | preproc | postproc "
       "(comma-separated "
       "list allowed)",
       "one of coordinator, worker, cache, all, preproc, postproc", set_roles,
       [](const node_config& c) -> opt { return roles_text(c); }},
      {"listen", "HOST:PORT of the cluster endpoint workers join (0 = any)",
       "HOST:PORT",
       [](node_config& c, const std::string& v) {
         c.routing.listen_given = true;
         return parse_endpoint(v, c.listen_host, c.listen_port);
       },
       [](const node_config& c) -> opt {
         return c.listen_host + ":" + num(c.listen_port);
       }},
      {"client-host", "address the client port binds", "a host name",
       [](node_config& c, const std::string& v) {
         c.client_host = v;
         return !v.empty();
       },
       str_shower(&node_config::client_host)},
      {"client-port", "client protocol port (0 = any free port)",
       "a port (0-65535)", uint_setter(&node_config::client_port, 0, 65535),
       uint_shower(&node_config::client_port)},
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
      {"join", "HOST:PORT of the coordinator a worker joins", "HOST:PORT",
       [](node_config& c, const std::string& v) {
         return parse_endpoint(v, c.join_host, c.join_port) && c.join_port != 0;
       },
       [](const node_config& c) -> opt {
         if (c.join_host.empty())
           return std::nullopt;
         return c.join_host + ":" + num(c.join_port);
       }},
      {"etcd",
       "HOST:PORT[,HOST:PORT...] of etcd: coordinators elect a leader there, "
       "workers follow it",
       "a comma-separated list of HOST:PORT",
       [](node_config& c, const std::string& v) {
         return parse_etcd_endpoints(v, c.etcd);
       },
       [](const node_config& c) -> opt {
         if (c.etcd.empty())
           return std::nullopt;
         std::string out;
         for (auto& ep : c.etcd)
           out += (out.empty() ? "" : ",") + ep.host + ":" + num(ep.port);
         return out;
       }},
      {"cluster", "name of the cluster in etcd (keys under /dine/NAME/)",
       "a name of letters, digits, '-', '_' and '.'",
       [](node_config& c, const std::string& v) {
         c.cluster = v;
         return !v.empty() && v.size() <= 64 &&
                v.find_first_not_of(
                    "abcdefghijklmnopqrstuvwxyz"
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
                    std::string::npos;
       },
       [](const node_config& c) -> opt {
         if (c.etcd.empty())
           return std::nullopt;
         return c.cluster;
       }},
      {"etcd-lease-ttl", "seconds a leader's etcd lease lives unrenewed",
       "an integer 2-60",
       [](node_config& c, const std::string& v) {
         uint32_t s = 0;
         if (!parse_uint(v, s, 2, 60))
           return false;
         c.etcd_lease_ttl = std::chrono::seconds{s};
         return true;
       },
       [](const node_config& c) -> opt {
         if (c.etcd.empty())
           return std::nullopt;
         return num(c.etcd_lease_ttl.count());
       }},
      {"etcd-poll-ms",
       "how often a standby coordinator or a worker reads the leader key",
       "milliseconds 10-60000", ms_setter(&node_config::etcd_poll, 10, 60000),
       [](const node_config& c) -> opt {
         if (c.etcd.empty())
           return std::nullopt;
         return num(c.etcd_poll.count());
       }},
      {"etcd-timeout-ms", "bound of one etcd call on one endpoint",
       "milliseconds 10-60000",
       ms_setter(&node_config::etcd_timeout, 10, 60000),
       [](const node_config& c) -> opt {
         if (c.etcd.empty())
           return std::nullopt;
         return num(c.etcd_timeout.count());
       }},
      {"models", "models a worker serves (comma-separated)",
       "a comma-separated list of model names",
       [](node_config& c, const std::string& v) {
         c.models = split_list(v);
         return !c.models.empty();
       },
       [](const node_config& c) -> opt {
         std::string out;
         for (auto& m : c.models)
           out += (out.empty() ? "" : ",") + m;
         return out;
       }},
      {"name", "worker name (default HOST:PID)", "a non-empty name",
       [](node_config& c, const std::string& v) {
         c.name = v;
         return !v.empty();
       },
       str_shower(&node_config::name)},
      {"local-workers", "workers inside a --role=all node", "an integer 1-64",
       uint_setter(&node_config::local_workers, 1, 64),
       uint_shower(&node_config::local_workers)},
      {"capacity", "batches in flight per worker", "an integer 1-1024",
       uint_setter(&node_config::capacity, 1, 1024),
       uint_shower(&node_config::capacity)},
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
      {"heap-trim-interval-ms",
       "how often RSS is sampled; after a burst of 64 MiB or more, once RSS "
       "stops growing, freed heap is given back with malloc_trim (0 = off)",
       "milliseconds 0 or 100-600000",
       [](node_config& c, const std::string& v) {
         return parse_ms(v, c.heap_trim_interval, 0, 600000) &&
                (c.heap_trim_interval.count() == 0 ||
                 c.heap_trim_interval.count() >= 100);
       },
       ms_shower(&node_config::heap_trim_interval)},
      {"malloc-arena-max",
       "glibc malloc arenas at most (mallopt M_ARENA_MAX; 0 = glibc's "
       "default, 8 per core)",
       "an integer 0-1024",
       uint_setter(&node_config::malloc_arena_max, 0, 1024),
       uint_shower(&node_config::malloc_arena_max)},
      {"api-keys-file",
       "file of `admin KEY` / `user KEY` lines; clients must send a hello "
       "with a key",
       "a file name",
       [](node_config& c, const std::string& v) {
         c.api_keys_file = v;
         return !v.empty();
       },
       str_shower(&node_config::api_keys_file)},
      {"max-retries", "re-dispatches of a batch whose worker failed",
       "an integer 0-100", uint_setter(&node_config::max_retries, 0, 100),
       uint_shower(&node_config::max_retries)},
      {"request-timeout-ms", "deadline of requests that set none",
       "milliseconds 1-3600000",
       ms_setter(&node_config::request_timeout, 1, 3600000),
       ms_shower(&node_config::request_timeout)},
      {"heartbeat-interval-ms", "middleman heartbeat interval",
       "milliseconds 10-60000",
       ms_setter(&node_config::heartbeat_interval, 10, 60000),
       ms_shower(&node_config::heartbeat_interval)},
      {"connection-timeout-ms",
       "a peer silent this long is considered lost (> heartbeat interval)",
       "milliseconds 50-600000",
       ms_setter(&node_config::connection_timeout, 50, 600000),
       ms_shower(&node_config::connection_timeout)},
      {"reconnect-max-ms", "cap of a worker's reconnect backoff",
       "milliseconds 10-600000",
       ms_setter(&node_config::reconnect_max, 10, 600000),
       ms_shower(&node_config::reconnect_max)},
      {"drain-timeout-ms",
       "on SIGTERM: longest wait for in-flight work before exiting",
       "milliseconds 0-3600000",
       ms_setter(&node_config::drain_timeout, 0, 3600000),
       ms_shower(&node_config::drain_timeout)},
      {"scheduler-policy", "CAF scheduler: sharing | stealing",
       "sharing or stealing",
       [](node_config& c, const std::string& v) {
         c.scheduler_policy = v;
         return v == "sharing" || v == "stealing";
       },
       str_shower(&node_config::scheduler_policy)},
      {"threads", "CAF scheduler threads", "an integer 1-256",
       uint_setter(&node_config::threads, 1, 256),
       uint_shower(&node_config::threads)},
      {"enable-fault-injection",
       "accept the `fault` op (fault hooks at run time; off by default)",
       "true or false",
       [](node_config& c, const std::string& v) {
         return parse_bool(v, c.fault_injection);
       },
       [](const node_config& c) -> opt {
         if (!c.fault_injection)
           return std::nullopt;
         return "true";
       }},
      {"ready-file", "written (JSON with the bound ports) once serving",
       "a path",
       [](node_config& c, const std::string& v) {
         c.ready_file = v;
         return !v.empty();
       },
       str_shower(&node_config::ready_file)},
      // Telemetry (docs/operations.md, "Metrics" and "Request logs").
      {"metrics-port",
       "serve Prometheus metrics on [HOST:]PORT (HOST 127.0.0.1 unless "
       "given; 0 = any free port); off unless set",
       "PORT or HOST:PORT",
       [](node_config& c, const std::string& v) {
         c.metrics = true;
         if (v.find(':') == std::string::npos)
           return parse_uint(v, c.metrics_port, 0, 65535);
         return parse_endpoint(v, c.metrics_host, c.metrics_port);
       },
       [](const node_config& c) -> opt {
         if (!c.metrics)
           return std::nullopt;
         return c.metrics_host + ":" + std::to_string(c.metrics_port);
       }},
      {"trace-sample",
       "share of successful requests logged as one line each (failed ones "
       "always are)",
       "a number 0-1",
       [](node_config& c, const std::string& v) {
         char* end = nullptr;
         auto x = std::strtod(v.c_str(), &end);
         if (v.empty() || end != v.c_str() + v.size() || !(x >= 0 && x <= 1))
           return false;
         c.trace_sample = x;
         return true;
       },
       [](const node_config& c) -> opt {
         if (c.trace_sample <= 0)
           return std::nullopt;
         char buf[32];
         std::snprintf(buf, sizeof buf, "%g", c.trace_sample);
         return std::string{buf};
       }},
      {"log-level", "error | warn | info | debug", "error, warn, info or debug",
       [](node_config& c, const std::string& v) {
         c.log_level = v;
         return v == "error" || v == "warn" || v == "info" || v == "debug";
       },
       str_shower(&node_config::log_level)},
      {"log-format", "text | json (one JSON object per line)", "text or json",
       [](node_config& c, const std::string& v) {
         c.log_format = v;
         return v == "text" || v == "json";
       },
       str_shower(&node_config::log_format)},
  };
  append_rows(table, lift(routing_options(), &node_config::routing));
  table.push_back(shorthand_row(
      "checkpoint",
      "define model `transformer` from a llama2.c checkpoint and serve it"));
  table.push_back(shorthand_row("tokenizer", "its tokenizer.bin"));
  append_rows(table, lift(cache_settings_options(), &node_config::cache));
  return table;
}

} // namespace

const config_table<node_config>& node_options() {
  static const config_table<node_config> table = make_node_options();
  return table;
}

caf::error apply_option(node_config& cfg, const std::string& key,
                        const std::string& value, const std::string& origin) {
  if (key.rfind("model.", 0) == 0) {
    auto dot = key.find('.', 6);
    if (dot == std::string::npos || dot == 6 || dot + 1 == key.size())
      return make_error(errc::invalid_config,
                        origin + ": `" + key +
                            "`: per-model keys read model.NAME.KEY");
    auto name = key.substr(6, dot - 6);
    auto sub = key.substr(dot + 1);
    auto row = find_option(model_options(), sub);
    if (row == nullptr)
      return make_error(errc::invalid_config, origin +
                                                  ": unknown per-model key `" +
                                                  sub + "` in `" + key + "`");
    auto& m = cfg.model_table[name];
    m.name = name;
    return apply_row(*row, m, key, value, origin);
  }
  if (auto row = find_option(node_options(), key))
    return apply_row(*row, cfg, key, value, origin);
  if (is_security_key(key))
    return apply_security_option(cfg, key, value, origin);
  return make_error(errc::invalid_config,
                    origin + ": unknown key `" + key + "` (see --help)");
}

caf::error validate(const node_config& cfg) {
  if (!cfg.coordinator && cfg.worker && cfg.join_host.empty() &&
      cfg.etcd.empty() && !cfg.routing.listen_given)
    return make_error(errc::invalid_config,
                      "a worker-only node needs `join` (--join=HOST:PORT), "
                      "`etcd` to follow the leader there, or `listen` to be "
                      "a static worker");
  if (!cfg.etcd.empty() && cfg.coordinator && cfg.worker)
    return make_error(errc::invalid_config,
                      "`etcd` needs --role=coordinator or --role=worker: a "
                      "standby coordinator serves no local workers");
  if (cfg.connection_timeout <= cfg.heartbeat_interval)
    return make_error(errc::invalid_config,
                      "`connection-timeout-ms` must exceed "
                      "`heartbeat-interval-ms`");
  if (cfg.worker)
    for (auto& m : cfg.models)
      if (cfg.model_table.count(m) == 0)
        return make_error(errc::invalid_config,
                          "`models`: unknown model `" + m +
                              "` (built in: echo, cost, sleep; define "
                              "others in [model.NAME])");
  if (auto err = validate_models(cfg.model_table))
    return err;
  if ((cfg.preproc_role || cfg.postproc_role) && served_models(cfg).empty())
    return make_error(errc::invalid_config,
                      std::string{"a "} +
                          (cfg.preproc_role ? "preproc" : "postproc") +
                          " node serves the @pool steps of pipelines: no "
                          "model has any (`model.NAME." +
                          (cfg.preproc_role ? "preproc" : "postproc") +
                          " = STEP@pool`, docs/operations.md)");
  if (auto err = validate_routing(cfg.routing))
    return err;
  return validate_security(cfg);
}

std::string to_config_text(const node_config& cfg) {
  std::string out = "[node]";
  append_shown(out, node_options(), cfg);
  out += security_config_text(cfg.security);
  out += model_config_text(cfg.model_table);
  out += "\n";
  return out;
}

std::string usage() {
  return "usage: dine-node [--config=FILE] [--key=value ...] "
         "[--check] [--help]\n\n"
         "--check validates the configuration, prints it and exits.\n\n"
         "Options (also valid as `key = value` in FILE):\n" +
         usage_lines(node_options(), "  --", 30) +
         "\nInter-node security keys (docs/security.md):\n" + security_usage() +
         "\nPer-model keys (--model.NAME.KEY=V, or KEY = V in "
         "[model.NAME]):\n" +
         usage_lines(model_options(), "  ", 32);
}

} // namespace dine
