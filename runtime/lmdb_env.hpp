#pragma once

// The LMDB environment under an `lmdb_store` (runtime/lmdb_store.hpp): RAII
// handles, sync modes, and `lmdb_env`, which opens one directory at most
// once per process, owns its environment and main database, grows the map
// on `MDB_MAP_FULL`, adopts a map another process grew, and keeps one read
// transaction for reuse. What the records mean (expiry, sizes) is the
// store's business, not this file's.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

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

/// How to open an `lmdb_env`.
struct lmdb_env_options {
  /// Directory of `data.mdb` and `lock.mdb`; created if missing.
  std::string path;
  /// Initial size of the memory map (the maximum size of the database).
  size_t map_size = size_t{64} << 20;
  /// The map doubles on `MDB_MAP_FULL` up to this size.
  size_t max_map_size = size_t{1} << 30;
  /// Concurrent read transactions of all processes.
  unsigned max_readers = 126;
  /// Durability of commits.
  lmdb_sync_mode sync = lmdb_sync_mode::full;
};

/// An open LMDB environment with its main database. Move-only; not
/// thread-safe, but may move between threads (`MDB_NOTLS`). A process may
/// open a directory at most once at a time (LMDB forbids opening one
/// environment twice in a process: closing either breaks the other's
/// locks), so `open` refuses a second instance; a forked child may open
/// what its parent has open. Errors name the operation and the path with
/// the prefix `lmdb_store:`.
class lmdb_env {
public:
  /// Creates the directory if needed, claims it for this process, opens the
  /// environment (keeping the map size an existing one grew to), clears
  /// stale reader slots of dead processes and opens the main database.
  static caf::expected<lmdb_env> open(const lmdb_env_options& opts);

  lmdb_env(lmdb_env&& other) noexcept;
  lmdb_env& operator=(lmdb_env&& other) noexcept;
  ~lmdb_env();

  /// Begins (or renews) the cached read transaction, adopting a map another
  /// process grew; returns an LMDB error code. Reset it with a `read_scope`.
  int begin_read() noexcept;

  /// The cached read transaction (valid after `begin_read` succeeded).
  MDB_txn* read_txn() const noexcept { return read_txn_.get(); }

  /// Resets the cached read transaction when leaving a scope.
  struct read_scope {
    MDB_txn* t;
    ~read_scope() { mdb_txn_reset(t); }
  };

  /// Runs `body` in a write transaction and commits; on `MDB_MAP_FULL`,
  /// aborts, grows the map and runs everything again. `op` names the
  /// operation in errors.
  caf::error write(const char* op, const std::function<int(MDB_txn*)>& body);

  /// Clears reader slots of dead processes; returns how many.
  caf::expected<size_t> check_readers();

  /// Flushes all commits to disk (forced).
  caf::error sync();

  /// Returns a `storage_error` for LMDB code `rc` in operation `op`.
  caf::error fail(int rc, const char* op) const;

  /// The environment handle.
  MDB_env* get() const noexcept { return env_.get(); }

  /// The main database.
  MDB_dbi dbi() const noexcept { return dbi_; }

  /// The largest key LMDB accepts.
  size_t max_key_size() const noexcept { return max_key_size_; }

  /// Times this environment doubled its map.
  uint64_t map_growths() const noexcept { return map_growths_; }

  /// The options it was opened with.
  const lmdb_env_options& options() const noexcept { return opts_; }

private:
  lmdb_env() = default;

  /// Doubles the map size, up to the maximum; no transaction may be open.
  caf::error grow();

  /// Closes the environment, then releases the directory.
  void close() noexcept;

  lmdb_env_options opts_;
  /// Canonical path, claimed against double opening.
  std::string claimed_path_;
  uint64_t map_growths_ = 0;
  size_t max_key_size_ = 0;
  MDB_dbi dbi_ = 0;
  lmdb::env env_;
  /// Reset between reads; destroyed before `env_`.
  lmdb::txn read_txn_;
};

} // namespace dine
