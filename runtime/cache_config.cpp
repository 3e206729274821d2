#include "runtime/cache_config.hpp"

#include "runtime/config_parse.hpp"

namespace dine {

namespace {

std::string num(uint64_t x) {
  return std::to_string(x);
}

} // namespace

const config_table<cache_settings>& cache_settings_options() {
  using opt = std::optional<std::string>;
  static const config_table<cache_settings> table = {
      {"cache", "response cache on a coordinator: on | off", "on or off",
       [](cache_settings& c, const std::string& v) {
         c.enabled = v == "on";
         return v == "on" || v == "off";
       },
       [](const cache_settings& c) -> opt { return c.enabled ? "on" : "off"; }},
      {"cache-dir", "LMDB directory of the cache (created if missing)",
       "a path",
       [](cache_settings& c, const std::string& v) {
         c.dir = v;
         return !v.empty();
       },
       [](const cache_settings& c) -> opt { return c.dir; }},
      {"cache-max-entries", "entries the in-memory LRU holds",
       "an integer 1-100000000",
       [](cache_settings& c, const std::string& v) {
         return parse_u64(v, c.max_entries, 1, 100000000);
       },
       [](const cache_settings& c) -> opt { return num(c.max_entries); }},
      {"cache-max-bytes", "bytes the in-memory LRU holds",
       "an integer 1024-1099511627776",
       [](cache_settings& c, const std::string& v) {
         return parse_u64(v, c.max_bytes, 1024, uint64_t{1} << 40);
       },
       [](const cache_settings& c) -> opt { return num(c.max_bytes); }},
      {"cache-ttl-ms", "default TTL of cached results (0 = none)",
       "milliseconds 0-4294967295",
       [](cache_settings& c, const std::string& v) {
         return parse_uint(v, c.ttl_ms, 0, UINT32_MAX);
       },
       [](const cache_settings& c) -> opt { return num(c.ttl_ms); }},
      {"cache-max-value-bytes", "larger results are not cached",
       "an integer 1-1073741824",
       [](cache_settings& c, const std::string& v) {
         return parse_u64(v, c.max_value_bytes, 1, uint64_t{1} << 30);
       },
       [](const cache_settings& c) -> opt { return num(c.max_value_bytes); }},
      {"cache-sync", "LMDB durability: full | nometasync | nosync",
       "full, nometasync or nosync",
       [](cache_settings& c, const std::string& v) {
         c.sync = v;
         return v == "full" || v == "nometasync" || v == "nosync";
       },
       [](const cache_settings& c) -> opt { return c.sync; }},
      {"cache-flush-us", "write-behind delay to LMDB (0 = write through)",
       "microseconds 0-10000000",
       [](cache_settings& c, const std::string& v) {
         return parse_uint(v, c.flush_us, 0, 10000000);
       },
       [](const cache_settings& c) -> opt { return num(c.flush_us); }},
      {"cache-node", "HOST:PORT of a `cache` role node to use instead",
       "HOST:PORT",
       [](cache_settings& c, const std::string& v) {
         auto colon = v.rfind(':');
         uint64_t port;
         if (colon == std::string::npos || colon == 0 ||
             !parse_u64(v.substr(colon + 1), port, 1, 65535))
           return false;
         c.node_host = v.substr(0, colon);
         c.node_port = static_cast<uint16_t>(port);
         return true;
       },
       [](const cache_settings& c) -> opt {
         if (c.node_host.empty())
           return std::nullopt;
         return c.node_host + ":" + num(c.node_port);
       }},
  };
  return table;
}

} // namespace dine
