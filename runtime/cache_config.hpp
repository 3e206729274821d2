#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "runtime/config_option.hpp"

namespace dine {

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

/// The cache keys (`cache`, `cache-*`), held in `node_config::cache`.
const config_table<cache_settings>& cache_settings_options();

} // namespace dine
