#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/error.hpp>

namespace dine {

struct node_config;

/// The response cache keys of a node's configuration (docs/operations.md,
/// "Response cache").
struct cache_settings {
  bool enabled = true;                 ///< `cache = on|off`.
  std::string dir = "dine-cache";      ///< LMDB directory, created if missing.
  uint64_t max_entries = 100000;       ///< Memory LRU bound.
  uint64_t max_bytes = 256u << 20;     ///< Memory LRU bound (keys + values).
  uint32_t ttl_ms = 0;                 ///< Default TTL; 0 = no expiry.
  uint64_t max_value_bytes = 4u << 20; ///< Larger results are not cached.
  std::string sync = "nometasync";     ///< full | nometasync | nosync.
  uint32_t flush_us = 2000;            ///< Write-behind delay to LMDB.
  std::string node_host;               ///< A `cache` role node to use instead.
  uint16_t node_port = 0;
};

/// Returns whether `key` is one of the cache keys (`cache`, `cache-*`).
bool is_cache_key(const std::string& key);

/// Sets cache key `key` to `value`, validating it.
caf::error apply_cache_option(node_config& cfg, const std::string& key,
                              const std::string& value,
                              const std::string& origin);

/// Usage lines of the cache keys.
std::string cache_usage();

/// Renders every cache key of `c` as `key = value` lines, each starting with
/// a newline, in the config file format (for `--check`).
std::string cache_config_text(const cache_settings& c);

} // namespace dine
