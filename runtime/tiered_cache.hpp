#pragma once

// tiered_cache: the response cache's engine, an LRU + TTL map in memory in
// front of LMDB with batched write-behind. Plain C++: the cache actor
// (actors/cache.hpp) is a thin shell that owns one, forwards its messages
// to it and runs its timers; tests drive it directly with an injected clock
// (tests/unit/test_tiered_cache.cpp).
//
// Tiers: a lookup tries memory (runtime/lru_cache.hpp), then the write
// buffer (entries not flushed yet), then LMDB (runtime/lmdb_store.hpp); a
// disk hit is promoted to memory. A put goes to memory and to the buffer,
// which is written in one LMDB transaction `flush_interval` after its first
// entry, at once when it holds `max_pending_bytes`, or before the put is
// answered when `flush_interval` is zero (write-through).
//
// The disk: opened at construction; while it opens, puts are buffered (up
// to `max_pending_bytes`, then memory only, remembering to delete the key's
// older value at open) and reads miss on disk. A failed open is retried
// `open_attempts` times, `open_retry_delay` apart (a previous incarnation
// may still hold the directory); then the engine serves from memory only,
// or, with `require_disk`, reports `fatal()` for its host to stop with.
//
// On failure: LMDB errors never throw. A failed read is a miss, a failed
// flush drops that batch from disk (the entries stay in memory), both
// counted in `errors` and logged (at most one line per second). The
// destructor flushes the buffer (the host's last chance on any termination).
//
// Counters (`cache_stats`): `hits` includes `disk_hits`; `expirations`
// counts entries found expired in memory, the buffer or a record; `errors`
// counts failed LMDB operations (one per failed flush, read or open).

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "messages/cache.hpp"
#include "runtime/cache_config.hpp"
#include "runtime/cache_policy.hpp"
#include "runtime/lmdb_store.hpp"
#include "runtime/lru_cache.hpp"

namespace dine {

/// Settings of a tiered cache (and of the cache actor that owns one).
struct cache_options {
  /// LMDB directory; created if missing.
  std::string dir = "dine-cache";
  /// Bounds of the in-memory LRU (bytes = keys + values).
  size_t max_entries = 100000;
  size_t max_bytes = size_t{256} << 20;
  /// TTL of entries whose `ttl_ms` is 0; zero: no expiry.
  std::chrono::milliseconds default_ttl{0};
  /// Larger values are not cached at all (neither memory nor disk): the put
  /// answers `false`, counts in `rejected`, and removes an older value of
  /// the key, so the cache never serves a value its owner replaced. Keys
  /// that are empty or longer than `cache_max_key_bytes` are rejected too.
  size_t max_value_bytes = size_t{4} << 20;
  /// Initial LMDB map size; doubled on `MDB_MAP_FULL` up to `max_map_size`.
  size_t map_size = size_t{64} << 20;
  size_t max_map_size = size_t{1} << 30;
  /// Durability of each flush (see `lmdb_sync_mode`).
  lmdb_sync_mode sync = lmdb_sync_mode::nosync_meta;
  /// Delay between the first buffered put and its flush. Zero: write
  /// through, each put message is written before it is answered.
  std::chrono::microseconds flush_interval{2000};
  /// A buffer holding this many bytes is flushed at once.
  size_t max_pending_bytes = size_t{16} << 20;
  /// `check_readers` runs at open and then with the first flush after each
  /// interval (a write needs the pages a dead reader pins).
  std::chrono::milliseconds reader_check_interval{10000};
  /// Expired records are purged from LMDB at open and then with the first
  /// flush after each interval; zero: only at open.
  std::chrono::milliseconds purge_interval{600000};
  /// Fills the LRU from LMDB at open (key order, up to the bounds).
  /// Otherwise memory fills lazily: a memory miss reads LMDB and promotes.
  bool load_on_start = false;
  /// Terminate with the open error instead of serving from memory only.
  bool require_disk = false;
  /// Opens tried before giving up on the disk, `open_retry_delay` apart.
  uint32_t open_attempts = 5;
  std::chrono::milliseconds open_retry_delay{20};
  /// Current time in Unix-epoch ms for memory and disk; empty: the system
  /// clock. Injectable for tests.
  std::function<uint64_t()> now_ms;
  /// Prints errors; off in tests that expect them.
  bool log_errors = true;
};

/// Returns the cache options of a node's `cache-*` keys
/// (runtime/cache_config.hpp); `errc::invalid_config` for a bad sync mode.
caf::expected<cache_options> make_cache_options(const cache_settings& x);

/// What a tiered cache needs from its host: a clock for its timers, a
/// timer, and somewhere to print.
struct tiered_cache_host {
  using clock_type = std::chrono::steady_clock;

  /// Returns the current time (the actor's clock).
  std::function<clock_type::time_point()> now;
  /// Calls `on_tick` after the delay (zero: as soon as possible, from the
  /// host's own context, never from within the call).
  std::function<void(std::chrono::microseconds)> wake_after;
  /// Prints one log line.
  std::function<void(const std::string&)> print;
};

/// The engine of the response cache (see the top of this file).
class tiered_cache {
public:
  using clock_type = tiered_cache_host::clock_type;

  /// Where the disk is.
  enum class disk_phase : uint8_t {
    /// Not open yet; writes are buffered, reads miss on disk.
    opening,
    /// Open: reads fall through to it, flushes write to it.
    open,
    /// Given up: memory only, nothing buffered.
    failed,
  };

  /// Applies `opts` and tries the first open.
  tiered_cache(cache_options opts, tiered_cache_host host);

  /// Flushes pending writes.
  ~tiered_cache();

  tiered_cache(const tiered_cache&) = delete;
  tiered_cache& operator=(const tiered_cache&) = delete;

  /// Looks `key` up in memory, the write buffer, then LMDB; fills `out`.
  bool fetch(const std::string& key, std::vector<uint8_t>& out);

  /// Stores `x` (moving its value); returns whether it was accepted.
  bool store(cache_entry& x);

  /// Removes `key` everywhere; returns whether a live value was removed.
  bool erase(const std::string& key);

  /// Returns whether `key` has a live value anywhere.
  bool contains(const std::string& key);

  /// Returns the counters with memory and LMDB figures filled in.
  cache_stats snapshot();

  /// Handles a timer: retries an open that is due, then flushes.
  void on_tick();

  /// Writes the buffer in one transaction; `true` unless it failed.
  bool flush();

  /// Returns whether each put message is flushed before its answer.
  bool write_through() const noexcept {
    return opts_.flush_interval.count() <= 0;
  }

  /// Set once the disk is required but failed: the host should stop with
  /// this error.
  const caf::error& fatal() const noexcept { return fatal_; }

  /// Where the disk is.
  disk_phase phase() const noexcept { return phase_; }

  /// Hits, misses, disk hits, writes, flushes, errors, rejected (without
  /// the memory and LMDB figures of `snapshot`).
  cache_stats& counters() noexcept { return counters_; }

  /// Returns the current time in Unix-epoch ms.
  uint64_t now_ms() const;

private:
  void try_open();
  void on_open();
  void maintain(bool force);
  void arm_flush();
  void log(const std::string& what);

  cache_options opts_;
  tiered_cache_host host_;
  std::unique_ptr<lru_cache> memory_;
  std::optional<lmdb_store> disk_;
  disk_phase phase_ = disk_phase::opening;
  write_buffer pending_;
  /// Deletes that arrived before the disk opened, applied at open.
  std::vector<std::string> pending_erases_;
  cache_stats counters_;
  bool flush_armed_ = false;
  uint32_t open_failures_ = 0;
  clock_type::time_point open_retry_at_;
  clock_type::time_point next_reader_check_;
  clock_type::time_point next_purge_;
  clock_type::time_point next_log_;
  uint64_t suppressed_logs_ = 0;
  caf::error fatal_;
};

} // namespace dine
