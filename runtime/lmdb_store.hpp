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

#include <lmdb.h>

namespace dine {

namespace lmdb {

/// Owns an `MDB_env`; closes it on destruction. Move-only.
class env {
public:
  env() = default;
  explicit env(MDB_env* ptr) noexcept : ptr_(ptr) {}
  env(env&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  env& operator=(env&& other) noexcept {
    std::swap(ptr_, other.ptr_); // `other` closes the old environment
    return *this;
  }
  ~env() {
    if (ptr_)
      mdb_env_close(ptr_);
  }

  /// Returns the handle.
  MDB_env* get() const noexcept { return ptr_; }

private:
  MDB_env* ptr_ = nullptr;
};

/// Owns an `MDB_txn`; aborts it on destruction unless committed. Move-only.
/// A reset read transaction keeps its reader slot and may be renewed.
class txn {
public:
  txn() = default;
  txn(txn&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  txn& operator=(txn&& other) noexcept {
    std::swap(ptr_, other.ptr_);
    return *this;
  }
  ~txn() { abort(); }

  /// Begins a top-level transaction in `out`; returns an LMDB error code.
  static int begin(MDB_env* e, unsigned flags, txn& out) noexcept {
    out.abort();
    return mdb_txn_begin(e, nullptr, flags, &out.ptr_);
  }

  /// Commits; returns an LMDB error code. The handle is gone afterwards,
  /// even on failure (LMDB frees it).
  int commit() noexcept { return mdb_txn_commit(std::exchange(ptr_, nullptr)); }

  /// Aborts the transaction, if any.
  void abort() noexcept {
    if (ptr_)
      mdb_txn_abort(std::exchange(ptr_, nullptr));
  }

  /// Returns the handle.
  MDB_txn* get() const noexcept { return ptr_; }

  explicit operator bool() const noexcept { return ptr_ != nullptr; }

private:
  MDB_txn* ptr_ = nullptr;
};

/// Owns an `MDB_cursor`; closes it on destruction. Move-only. Must be
/// destroyed before its transaction commits or aborts.
class cursor {
public:
  cursor() = default;
  cursor(cursor&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  cursor& operator=(cursor&& other) noexcept {
    std::swap(ptr_, other.ptr_);
    return *this;
  }
  ~cursor() {
    if (ptr_)
      mdb_cursor_close(ptr_);
  }

  /// Opens a cursor on `dbi` in `t`; returns an LMDB error code.
  static int open(MDB_txn* t, MDB_dbi dbi, cursor& out) noexcept {
    out = cursor{};
    return mdb_cursor_open(t, dbi, &out.ptr_);
  }

  /// Returns the handle.
  MDB_cursor* get() const noexcept { return ptr_; }

private:
  MDB_cursor* ptr_ = nullptr;
};

} // namespace lmdb

/// When a commit reaches the disk. Committed data survives a crash (or kill)
/// of the process in every mode: without `MDB_WRITEMAP`, LMDB writes each
/// commit into the OS page cache before the commit returns, and the kernel
/// writes it back later. The modes differ on a power loss or kernel crash
/// (see `MDB_NOMETASYNC` and `MDB_NOSYNC` in lmdb.h):
enum class lmdb_sync_mode {
  /// Flushes data and meta page on every commit (`fdatasync`/`fsync`): a
  /// power loss loses no committed transaction (on disks that honor
  /// flushes).
  full,
  /// `MDB_NOMETASYNC`: flushes the data but defers the meta page to the next
  /// commit or `sync()`. The database stays intact; a power loss may undo
  /// the last committed transaction.
  nosync_meta,
  /// `MDB_NOSYNC`: never flushes on commit; call `lmdb_store::sync()`. A
  /// power loss may lose every transaction since the last flush (by the
  /// kernel or `sync()`); LMDB's integrity then relies on the file system
  /// preserving write order, otherwise the file may be corrupt.
  nosync,
};

/// Returns `full`, `nometasync` or `nosync`.
const char* to_string(lmdb_sync_mode x);

/// Parses the names of `to_string`.
caf::expected<lmdb_sync_mode> parse_lmdb_sync_mode(std::string_view name);

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

  lmdb_store(lmdb_store&& other) noexcept;
  lmdb_store& operator=(lmdb_store&& other) noexcept;
  ~lmdb_store();

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
  lmdb_store() = default;

  caf::error fail(int rc, const char* op) const;

  caf::error check_sizes(std::string_view key, size_t value_size) const;

  /// Renews the cached read transaction.
  int begin_read() noexcept;

  /// Runs `body` in a write transaction and commits; on `MDB_MAP_FULL`,
  /// aborts, grows the map and runs everything again.
  caf::error write(const char* op, const std::function<int(MDB_txn*)>& body);

  /// Doubles the map size, up to the maximum; no transaction may be open.
  caf::error grow();

  /// Looks up `key`; fills `out` (if not null) and returns 1 for a live
  /// record, returns 0 for a missing or expired one (deleting the latter).
  caf::expected<int> lookup(std::string_view key, std::vector<uint8_t>* out);

  /// Deletes `key` if it is still expired.
  caf::error delete_if_expired(std::string_view key);

  void unregister() noexcept;

  lmdb_options opts_;
  /// Canonical path, registered against double opening.
  std::string registered_path_;
  uint64_t map_growths_ = 0;
  size_t max_key_size_ = 0;
  MDB_dbi dbi_ = 0;
  lmdb::env env_;
  /// Reset between reads; destroyed before `env_`.
  lmdb::txn read_txn_;
};

} // namespace dine
