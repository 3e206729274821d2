#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dine {

/// Counters of an `lru_cache` since construction.
struct lru_stats {
  uint64_t hits = 0;        ///< `get` calls that returned a value.
  uint64_t misses = 0;      ///< `get` calls that found no live entry.
  uint64_t evictions = 0;   ///< Live entries dropped to make room.
  uint64_t expirations = 0; ///< Entries dropped because their TTL passed.
  uint64_t rejected = 0;    ///< `set` calls that did not cache their value.
};

/// An in-memory map from string keys to byte values with least-recently-used
/// eviction and a per-entry time to live.
///
/// The cache is bounded by its number of entries and by its total bytes,
/// counted as the sum of `key.size() + value.size()` over all entries. All
/// operations are O(1) on average: a hash map indexes the nodes of a list
/// ordered from the most to the least recently used entry.
///
/// Not thread-safe: the owner (one actor) serializes all calls.
class lru_cache {
public:
  /// The clock of expiry times.
  using clock_type = std::chrono::steady_clock;

  /// A point in time of `clock_type`.
  using time_point = clock_type::time_point;

  /// Returns the current time; injectable for tests.
  using clock_fn = std::function<time_point()>;

  /// The expiry of entries that never expire.
  static constexpr time_point never = time_point::max();

  /// Constructs a cache holding at most `max_entries` entries and at most
  /// `max_bytes` bytes. An empty `clock` selects `clock_type::now`.
  lru_cache(size_t max_entries, size_t max_bytes, clock_fn clock = {});

  lru_cache(const lru_cache&) = delete;
  lru_cache& operator=(const lru_cache&) = delete;

  /// Returns the value of `key` and marks it as most recently used, or
  /// `nullptr` when the key is absent or expired. An expired entry is
  /// removed and counted as an expiration. The pointer stays valid until the
  /// next call of a non-const member function.
  const std::vector<uint8_t>* get(std::string_view key);

  /// Stores `value` under `key` with a time to live of `ttl` (zero or less:
  /// no expiry), replacing any previous value, and evicts least recently
  /// used entries until both bounds hold. Returns `false` without caching
  /// when the entry alone exceeds a bound; a previous value of `key` is then
  /// removed as well, so the cache never serves a value its owner replaced.
  bool set(std::string key, std::vector<uint8_t> value,
           std::chrono::nanoseconds ttl = std::chrono::nanoseconds{0});

  /// Like `set`, with an absolute expiry (`never` for none), e.g. for entries
  /// loaded from disk. Returns `false` for an expiry that already passed.
  bool set_until(std::string key, std::vector<uint8_t> value,
                 time_point expiry);

  /// Removes `key`; returns whether a live entry was removed.
  bool erase(std::string_view key);

  /// Returns whether `key` has a live entry, without touching its recency.
  /// Removes the entry if it expired.
  bool exists(std::string_view key);

  /// Removes all expired entries in O(n); returns how many.
  size_t purge_expired();

  /// Removes all entries; keeps the statistics.
  void clear();

  /// Returns the number of entries, including expired ones not yet removed.
  size_t size() const noexcept { return index_.size(); }

  /// Returns the sum of key and value sizes of all entries.
  size_t bytes() const noexcept { return bytes_; }

  /// Returns the maximum number of entries.
  size_t max_entries() const noexcept { return max_entries_; }

  /// Returns the maximum number of bytes.
  size_t max_bytes() const noexcept { return max_bytes_; }

  /// Returns the counters.
  const lru_stats& stats() const noexcept { return stats_; }

  /// Returns the current time of the cache's clock.
  time_point now() const { return clock_ ? clock_() : clock_type::now(); }

private:
  struct node {
    std::string key;
    std::vector<uint8_t> value;
    time_point expiry;

    size_t bytes() const noexcept { return key.size() + value.size(); }
  };

  using list_type = std::list<node>;

  /// Unlinks `i` from the list and the index.
  void remove(list_type::iterator i);

  /// Removes `i` if it expired at `now`; returns whether it did.
  bool drop_if_expired(list_type::iterator i, time_point now);

  /// Evicts from the back until both bounds hold.
  void shrink();

  size_t max_entries_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  clock_fn clock_;
  lru_stats stats_;
  /// Front: most recently used.
  list_type entries_;
  /// Keys point into the nodes of `entries_`, which never move.
  std::unordered_map<std::string_view, list_type::iterator> index_;
};

} // namespace dine
