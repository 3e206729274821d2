#pragma once

// cache: the response cache, an LRU + TTL map in memory in front of LMDB.
//
// Interface: `cache_actor` (messages/interfaces.hpp). Batched lookups and
// batched one-way puts are the hot path; get/put/delete/exists/stats are the
// single-key API; `(tick)` is its own timer (write-behind flush, open
// retries, LMDB maintenance).
// Supervised by: a generic supervisor (actors/supervisor.hpp), e.g. as a
// `cache_child`, or by the node. It is safe to restart on the same
// directory: its state (with the LMDB environment) is destroyed in
// `on_exit`, before monitors see it down, so the next incarnation can open
// the directory again; an open that still fails is retried.
// Monitors: nothing.
// On failure: LMDB errors never stop it. A failed read is a miss, a failed
// flush drops that batch (the entries stay in memory), both counted in
// `errors` and logged (at most once per second). A directory that cannot be
// created or opened, or a corrupt file, is retried `open_attempts` times;
// then it logs the error once, counts it, and serves from memory only, or,
// with `require_disk`, terminates with that `errc::storage_error`.
//
// Durability: puts are buffered and written in one LMDB transaction per
// `flush_interval`. Any termination of the actor (normal, `user_shutdown`,
// even `exit_reason::kill`, an exception) runs the state's destructor,
// which flushes the buffer. A crash of the process (SIGKILL, abort) loses
// at most the puts of the last flush interval; committed flushes survive it
// in every sync mode (a power loss is another matter, see `lmdb_sync_mode`).
// Puts buffered while the disk is still being opened are lost if it never
// opens (they stay in memory). After a failed flush, a key whose new value
// was dropped may serve its older LMDB value once memory evicts the new one.
//
// Counters (`cache_stats`): `hits` includes `disk_hits`; `expirations`
// counts entries found expired in memory, the buffer or a record; `errors`
// counts failed LMDB operations (one per failed flush, read or open).

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/supervisor.hpp"
#include "messages/interfaces.hpp"
#include "runtime/cache_config.hpp"
#include "runtime/cache_policy.hpp"
#include "runtime/lmdb_store.hpp"
#include "runtime/lru_cache.hpp"

namespace dine {

/// Spawn arguments of a cache actor.
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
  /// Prints errors (via `aout`); off in tests that expect them.
  bool log_errors = true;
};

/// State of a cache actor.
struct cache_state {
  using self_pointer = cache_actor::stateful_pointer<cache_state>;

  /// Where the disk is.
  enum class disk_phase : uint8_t {
    /// Not open yet; writes are buffered, reads miss on disk.
    opening,
    /// Open: reads fall through to it, flushes write to it.
    open,
    /// Given up: memory only, nothing buffered.
    failed,
  };

  explicit cache_state(self_pointer ptr);

  /// Flushes pending writes (the last chance of an orderly stop or a kill).
  ~cache_state();

  cache_state(const cache_state&) = delete;
  cache_state& operator=(const cache_state&) = delete;

  /// Applies `opts` and tries the first open.
  void init(cache_options opts);

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

  /// Handles a tick: flushes, retries an open, runs maintenance.
  void on_tick();

  /// Writes the buffer in one transaction; `true` unless it failed.
  bool flush();

  /// Returns the current time in Unix-epoch ms.
  uint64_t now_ms() const;

  /// Returns whether each put message is flushed before its answer.
  bool write_through() const noexcept {
    return opts.flush_interval.count() <= 0;
  }

  self_pointer self;
  cache_options opts;
  std::unique_ptr<lru_cache> memory;
  std::optional<lmdb_store> disk;
  disk_phase phase = disk_phase::opening;
  write_buffer pending;
  /// Deletes that arrived before the disk opened, applied at open.
  std::vector<std::string> pending_erases;
  /// Hits, misses, disk hits, writes, flushes, errors, rejected.
  cache_stats counters;
  bool flush_armed = false;
  uint32_t open_failures = 0;
  caf::actor_clock::time_point open_retry_at;
  caf::actor_clock::time_point next_reader_check;
  caf::actor_clock::time_point next_purge;
  caf::actor_clock::time_point next_log;
  uint64_t suppressed_logs = 0;
  /// Set when the disk is required but failed: the next tick quits.
  caf::error fatal;

  static inline const char* name = "dine.cache";

private:
  void try_open();
  void on_open();
  void maintain(bool force);
  void arm_flush();
  void log(const std::string& what);
};

/// Returns the cache options of a node's `cache-*` keys
/// (runtime/cache_config.hpp); `errc::invalid_config` for a bad sync mode.
caf::expected<cache_options> make_cache_options(const cache_settings& x);

/// Behavior of a cache actor.
cache_actor::behavior_type
cache(cache_actor::stateful_pointer<cache_state> self, cache_options opts);

/// Spawns a cache actor. LMDB calls block on disk I/O, so by default it
/// runs `detached` (its own thread) rather than on a scheduler worker.
cache_actor spawn_cache(caf::actor_system& sys, cache_options opts,
                        bool detached = true);

/// Returns a child spec for a supervisor that (re)starts a cache actor
/// with `opts` (detached, like `spawn_cache`).
supervised_child cache_child(
    std::string id, cache_options opts,
    std::chrono::milliseconds shutdown = std::chrono::milliseconds{5000});

} // namespace dine
