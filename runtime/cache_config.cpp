#include "runtime/cache_config.hpp"

#include "runtime/config_parse.hpp"

#include <functional>
#include <vector>

#include "messages/errc.hpp"
#include "runtime/node_config.hpp"

namespace dine {

namespace {

struct cache_option {
  const char* key;
  const char* help;
  const char* expects;
  std::function<bool(cache_settings&, const std::string&)> set;
};

const std::vector<cache_option>& cache_options_table() {
  static const std::vector<cache_option> table = {
      {"cache", "response cache on a coordinator: on | off", "on or off",
       [](cache_settings& c, const std::string& v) {
         c.enabled = v == "on";
         return v == "on" || v == "off";
       }},
      {"cache-dir", "LMDB directory of the cache (created if missing)",
       "a path",
       [](cache_settings& c, const std::string& v) {
         c.dir = v;
         return !v.empty();
       }},
      {"cache-max-entries", "entries the in-memory LRU holds",
       "an integer 1-100000000",
       [](cache_settings& c, const std::string& v) {
         return parse_u64(v, c.max_entries, 1, 100000000);
       }},
      {"cache-max-bytes", "bytes the in-memory LRU holds",
       "an integer 1024-1099511627776",
       [](cache_settings& c, const std::string& v) {
         return parse_u64(v, c.max_bytes, 1024, uint64_t{1} << 40);
       }},
      {"cache-ttl-ms", "default TTL of cached results (0 = none)",
       "milliseconds 0-4294967295",
       [](cache_settings& c, const std::string& v) {
         uint64_t x;
         if (!parse_u64(v, x, 0, UINT32_MAX))
           return false;
         c.ttl_ms = static_cast<uint32_t>(x);
         return true;
       }},
      {"cache-max-value-bytes", "larger results are not cached",
       "an integer 1-1073741824",
       [](cache_settings& c, const std::string& v) {
         return parse_u64(v, c.max_value_bytes, 1, uint64_t{1} << 30);
       }},
      {"cache-sync", "LMDB durability: full | nometasync | nosync",
       "full, nometasync or nosync",
       [](cache_settings& c, const std::string& v) {
         c.sync = v;
         return v == "full" || v == "nometasync" || v == "nosync";
       }},
      {"cache-flush-us", "write-behind delay to LMDB (0 = write through)",
       "microseconds 0-10000000",
       [](cache_settings& c, const std::string& v) {
         uint64_t x;
         if (!parse_u64(v, x, 0, 10000000))
           return false;
         c.flush_us = static_cast<uint32_t>(x);
         return true;
       }},
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
       }},
  };
  return table;
}

} // namespace

bool is_cache_key(const std::string& key) {
  for (auto& opt : cache_options_table())
    if (key == opt.key)
      return true;
  return false;
}

caf::error apply_cache_option(node_config& cfg, const std::string& key,
                              const std::string& value,
                              const std::string& origin) {
  for (auto& opt : cache_options_table())
    if (key == opt.key) {
      if (!opt.set(cfg.cache, value))
        return make_error(errc::invalid_config,
                          origin + ": `" + key + "` = `" + value +
                              "` is invalid: expected " + opt.expects);
      return caf::none;
    }
  return make_error(errc::invalid_config,
                    origin + ": unknown key `" + key + "`");
}

std::string cache_usage() {
  std::string out;
  for (auto& opt : cache_options_table()) {
    out += "  --";
    out += opt.key;
    out += std::string(32 - std::min<size_t>(31, std::string{opt.key}.size()),
                       ' ');
    out += opt.help;
    out += '\n';
  }
  return out;
}

std::string cache_config_text(const cache_settings& c) {
  std::string out;
  auto kv = [&](const char* k, const std::string& v) { append_kv(out, k, v); };
  kv("cache", c.enabled ? "on" : "off");
  kv("cache-dir", c.dir);
  kv("cache-max-entries", std::to_string(c.max_entries));
  kv("cache-max-bytes", std::to_string(c.max_bytes));
  kv("cache-ttl-ms", std::to_string(c.ttl_ms));
  kv("cache-max-value-bytes", std::to_string(c.max_value_bytes));
  kv("cache-sync", c.sync);
  kv("cache-flush-us", std::to_string(c.flush_us));
  if (!c.node_host.empty())
    kv("cache-node", c.node_host + ":" + std::to_string(c.node_port));
  return out;
}

} // namespace dine
