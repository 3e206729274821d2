#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "runtime/lmdb_env.hpp"

namespace dine {

/// Configuration of an `lmdb_store`.
struct lmdb_options {
  /// Directory of `data.mdb` and `lock.mdb`; created if missing.
  std::string path;
  /// Initial size of the memory map (the maximum size of the database).
  size_t map_size = size_t{64} << 20;
  /// The map doubles on `MDB_MAP_FULL` up to this size.
  size_t max_map_size = size_t{1} << 30;
  /// Larger values are rejected with `errc::value_too_large`.
  size_t max_value_size = size_t{16} << 20;
  /// Concurrent read transactions of all processes.
  unsigned max_readers = 126;
  /// Durability of commits.
  lmdb_sync_mode sync = lmdb_sync_mode::full;
  /// Current time in Unix-epoch milliseconds; empty: the system clock.
  std::function<uint64_t()> now_ms;
};

/// A key, its value, and its absolute expiry in Unix-epoch milliseconds
/// (0: never).
struct lmdb_entry {
  std::string key;
  std::vector<uint8_t> value;
  uint64_t expiry_ms = 0;
};

/// Figures of an open `lmdb_store`.
struct lmdb_stats {
  uint64_t entries = 0;    ///< Records, including expired ones.
  uint64_t map_size = 0;   ///< Current size of the memory map.
  uint64_t used_bytes = 0; ///< Pages in use times the page size.
  uint64_t page_size = 0;
  uint32_t readers = 0;     ///< Highest reader slot used so far.
  uint32_t max_readers = 0; ///< Reader slots.
  uint64_t map_growths = 0; ///< Times this store doubled its map.
};

/// A persistent map from string keys to byte values with expiry, on LMDB.
///
/// Each record holds an 8-byte little-endian expiry (Unix-epoch
/// milliseconds, 0 = never) followed by the value, so a reopened store
/// drops stale entries: reads treat expired records as missing and delete
/// them, `purge_expired` removes them all.
///
/// Every failure becomes a `caf::error` (`errc::storage_error` naming the
/// operation, the path and `mdb_strerror`, or `errc::value_too_large`); no
/// exception escapes. An instance is not thread-safe, but may move between
/// threads (the environment uses `MDB_NOTLS`). A process must open a
/// directory at most once at a time: `open` refuses a second instance. A
/// moved-from store must not be used.
class lmdb_store {
public:
  /// Opens (or creates) the store in `opts.path`, clears stale reader slots
  /// left by dead processes, and opens the main database.
  static caf::expected<lmdb_store> open(const lmdb_options& opts);

  lmdb_store(lmdb_store&&) noexcept = default;
  lmdb_store& operator=(lmdb_store&&) noexcept = default;

  /// Returns the value of `key`, or `std::nullopt` when it is absent or
  /// expired (an expired record is deleted).
  caf::expected<std::optional<std::vector<uint8_t>>> get(std::string_view key);

  /// Returns whether `key` has a live record.
  caf::expected<bool> exists(std::string_view key);

  /// Stores `value` under `key` until `expiry_ms` (0: never), replacing any
  /// previous value, in one write transaction.
  caf::error put(std::string_view key, const std::vector<uint8_t>& value,
                 uint64_t expiry_ms = 0);

  /// Stores all `entries` in one write transaction: all or none. Checks
  /// every key and value size before writing anything.
  caf::error put_batch(const std::vector<lmdb_entry>& entries);

  /// Deletes `key`; returns whether a live record was deleted.
  caf::expected<bool> erase(std::string_view key);

  /// Calls `fn` for every live record in key order; returns how many it
  /// visited. `fn` must not call this store; an exception it throws ends the
  /// scan with an error.
  caf::expected<size_t>
  for_each(const std::function<void(const lmdb_entry&)>& fn);

  /// Deletes all expired (and malformed) records; returns how many.
  caf::expected<size_t> purge_expired();

  /// Clears reader slots of dead processes (`mdb_reader_check`); returns how
  /// many. Call it periodically: a killed reader pins old pages forever.
  caf::expected<size_t> check_readers();

  /// Returns entry count, map size and used bytes.
  caf::expected<lmdb_stats> stats();

  /// Flushes all commits to disk (`mdb_env_sync`, forced), e.g. in `nosync`
  /// mode.
  caf::error sync();

  /// Returns the current time of the store's clock in Unix-epoch ms.
  uint64_t now_ms() const;

  /// Returns the options the store was opened with.
  const lmdb_options& options() const noexcept { return opts_; }

private:
  explicit lmdb_store(lmdb_options opts, lmdb_env env)
      : opts_(std::move(opts)), env_(std::move(env)) {
    // nop
  }

  caf::error check_sizes(std::string_view key, size_t value_size) const;

  /// Looks up `key`; fills `out` (if not null) and returns 1 for a live
  /// record, returns 0 for a missing or expired one (deleting the latter).
  caf::expected<int> lookup(std::string_view key, std::vector<uint8_t>* out);

  /// Deletes `key` if it is still expired.
  caf::error delete_if_expired(std::string_view key);

  lmdb_options opts_;
  lmdb_env env_;
};

} // namespace dine
