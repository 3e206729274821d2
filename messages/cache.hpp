#pragma once

// Messages of the response cache (actors/cache.hpp).

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace dine {

/// One value to store.
struct cache_entry {
  std::string key;
  std::vector<uint8_t> value;
  uint32_t ttl_ms = 0; ///< 0 = the cache's default TTL.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cache_entry& x) {
  return f(caf::meta::type_name("cache_entry"), x.key, x.value, x.ttl_ms);
}

/// A batch of lookups (one per client read at most); `tag` is the
/// requester's, echoed in the answer.
struct cache_lookup {
  uint64_t tag = 0;
  std::vector<std::string> keys;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cache_lookup& x) {
  return f(caf::meta::type_name("cache_lookup"), x.tag, x.keys);
}

/// The answer to a `cache_lookup`: `found[i]` says whether `values[i]`
/// holds the value of `keys[i]` (missing values are empty).
struct cache_hits {
  uint64_t tag = 0;
  std::vector<uint8_t> found;
  std::vector<std::vector<uint8_t>> values;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cache_hits& x) {
  return f(caf::meta::type_name("cache_hits"), x.tag, x.found, x.values);
}

/// Counters of a cache actor.
struct cache_stats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;   ///< From memory (still on disk).
  uint64_t expirations = 0; ///< Entries past their TTL, never served.
  uint64_t entries = 0;     ///< In memory.
  uint64_t bytes = 0;       ///< In memory.
  uint64_t disk_hits = 0;   ///< Misses in memory served from LMDB.
  uint64_t writes = 0;      ///< Entries written to LMDB.
  uint64_t flushes = 0;     ///< LMDB write transactions.
  uint64_t errors = 0;      ///< LMDB errors (logged misses / lost writes).
  uint64_t rejected = 0;    ///< Values over the size limit, not cached.
  uint64_t lmdb_entries = 0;
  uint64_t lmdb_map_bytes = 0;
  uint64_t lmdb_used_bytes = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cache_stats& x) {
  return f(caf::meta::type_name("cache_stats"), x.hits, x.misses, x.evictions,
           x.expirations, x.entries, x.bytes, x.disk_hits, x.writes, x.flushes,
           x.errors, x.rejected, x.lmdb_entries, x.lmdb_map_bytes,
           x.lmdb_used_bytes);
}

} // namespace dine
