#include "runtime/lmdb_env.hpp"

#include <filesystem>
#include <mutex>
#include <set>

#include <unistd.h>

#include "messages/errc.hpp"

namespace fs = std::filesystem;

namespace dine {

namespace {

/// The directories open in this process. Entries are (pid, canonical path),
/// so a forked child may open what its parent has open.
std::mutex registry_mtx;
std::set<std::pair<pid_t, std::string>> registry;

bool claim(const std::string& path) {
  std::lock_guard<std::mutex> guard{registry_mtx};
  return registry.emplace(getpid(), path).second;
}

void release(const std::string& path) noexcept {
  std::lock_guard<std::mutex> guard{registry_mtx};
  registry.erase(std::make_pair(getpid(), path));
}

} // namespace

const char* to_string(lmdb_sync_mode x) {
  switch (x) {
  case lmdb_sync_mode::nosync_meta:
    return "nometasync";
  case lmdb_sync_mode::nosync:
    return "nosync";
  default:
    return "full";
  }
}

caf::expected<lmdb_sync_mode> parse_lmdb_sync_mode(std::string_view name) {
  if (name == "full")
    return lmdb_sync_mode::full;
  if (name == "nometasync")
    return lmdb_sync_mode::nosync_meta;
  if (name == "nosync")
    return lmdb_sync_mode::nosync;
  return make_error(errc::invalid_config,
                    "unknown sync mode '" + std::string{name} +
                        "' (expected full, nometasync or nosync)");
}

// -- opening and closing ------------------------------------------------------

caf::expected<lmdb_env> lmdb_env::open(const lmdb_env_options& opts) {
  std::error_code ec;
  fs::create_directories(opts.path, ec);
  if (ec || !fs::is_directory(opts.path, ec))
    return make_error(errc::storage_error,
                      "lmdb_store: cannot create directory '" + opts.path +
                          "': " + (ec ? ec.message() : "not a directory"));
  auto canonical = fs::canonical(opts.path, ec).string();
  if (ec)
    return make_error(errc::storage_error, "lmdb_store: cannot resolve '" +
                                               opts.path +
                                               "': " + ec.message());
  lmdb_env result;
  result.opts_ = opts;
  if (!claim(canonical))
    return make_error(errc::storage_error, "lmdb_store: '" + canonical +
                                               "' is already open in this"
                                               " process");
  result.claimed_path_ = std::move(canonical);
  MDB_env* raw = nullptr;
  if (auto rc = mdb_env_create(&raw))
    return result.fail(rc, "mdb_env_create");
  result.env_ = lmdb::env{raw};
  if (auto rc = mdb_env_set_maxreaders(raw, opts.max_readers))
    return result.fail(rc, "mdb_env_set_maxreaders");
  // An existing environment keeps the map size it grew to: LMDB adopts
  // the size stored in the file only if none is set before opening.
  bool fresh = !fs::exists(opts.path + "/data.mdb", ec);
  if (fresh)
    if (auto rc = mdb_env_set_mapsize(raw, opts.map_size))
      return result.fail(rc, "mdb_env_set_mapsize");
  unsigned flags = MDB_NOTLS;
  if (opts.sync == lmdb_sync_mode::nosync_meta)
    flags |= MDB_NOMETASYNC;
  else if (opts.sync == lmdb_sync_mode::nosync)
    flags |= MDB_NOSYNC;
  if (auto rc = mdb_env_open(raw, opts.path.c_str(), flags, 0644))
    return result.fail(rc, "mdb_env_open");
  MDB_envinfo info;
  if (auto rc = mdb_env_info(raw, &info))
    return result.fail(rc, "mdb_env_info");
  if (info.me_mapsize < opts.map_size)
    if (auto rc = mdb_env_set_mapsize(raw, opts.map_size))
      return result.fail(rc, "mdb_env_set_mapsize");
  int dead = 0;
  if (auto rc = mdb_reader_check(raw, &dead))
    return result.fail(rc, "mdb_reader_check");
  result.max_key_size_ = static_cast<size_t>(mdb_env_get_maxkeysize(raw));
  lmdb::txn t;
  if (auto rc = lmdb::txn::begin(raw, 0, t))
    return result.fail(rc, "mdb_txn_begin");
  if (auto rc = mdb_dbi_open(t.get(), nullptr, 0, &result.dbi_))
    return result.fail(rc, "mdb_dbi_open");
  if (auto rc = t.commit())
    return result.fail(rc, "mdb_txn_commit");
  return caf::expected<lmdb_env>{std::move(result)};
}

lmdb_env::lmdb_env(lmdb_env&& other) noexcept
    : opts_(std::move(other.opts_)),
      claimed_path_(std::move(other.claimed_path_)),
      map_growths_(other.map_growths_), max_key_size_(other.max_key_size_),
      dbi_(other.dbi_), env_(std::move(other.env_)),
      read_txn_(std::move(other.read_txn_)) {
  other.claimed_path_.clear();
}

lmdb_env& lmdb_env::operator=(lmdb_env&& other) noexcept {
  if (this != &other) {
    close();
    opts_ = std::move(other.opts_);
    claimed_path_ = std::move(other.claimed_path_);
    other.claimed_path_.clear();
    map_growths_ = other.map_growths_;
    max_key_size_ = other.max_key_size_;
    dbi_ = other.dbi_;
    env_ = std::move(other.env_);
    read_txn_ = std::move(other.read_txn_);
  }
  return *this;
}

lmdb_env::~lmdb_env() {
  close();
}

void lmdb_env::close() noexcept {
  read_txn_.abort();
  env_ = lmdb::env{};
  if (claimed_path_.empty())
    return;
  release(claimed_path_);
  claimed_path_.clear();
}

// -- transactions -------------------------------------------------------------

int lmdb_env::begin_read() noexcept {
  if (read_txn_) {
    auto rc = mdb_txn_renew(read_txn_.get());
    if (rc == MDB_SUCCESS)
      return rc;
    read_txn_.abort();
  }
  auto rc = lmdb::txn::begin(env_.get(), MDB_RDONLY, read_txn_);
  if (rc == MDB_MAP_RESIZED) {
    // Another process grew the map: adopt its size (no transaction is open).
    read_txn_.abort();
    if ((rc = mdb_env_set_mapsize(env_.get(), 0)) != MDB_SUCCESS)
      return rc;
    rc = lmdb::txn::begin(env_.get(), MDB_RDONLY, read_txn_);
  }
  return rc;
}

caf::error lmdb_env::write(const char* op,
                           const std::function<int(MDB_txn*)>& body) {
  for (;;) {
    lmdb::txn t;
    auto rc = lmdb::txn::begin(env_.get(), 0, t);
    if (rc == MDB_MAP_RESIZED) {
      // Another process grew the map: adopt its size.
      read_txn_.abort();
      if ((rc = mdb_env_set_mapsize(env_.get(), 0)) != MDB_SUCCESS)
        return fail(rc, "mdb_env_set_mapsize");
      rc = lmdb::txn::begin(env_.get(), 0, t);
    }
    if (rc != MDB_SUCCESS)
      return fail(rc, "mdb_txn_begin(write)");
    rc = body(t.get());
    if (rc == MDB_SUCCESS)
      rc = t.commit();
    if (rc == MDB_MAP_FULL) {
      t.abort();
      if (auto err = grow())
        return err;
      continue;
    }
    if (rc != MDB_SUCCESS)
      return fail(rc, op);
    return caf::none;
  }
}

caf::error lmdb_env::grow() {
  MDB_envinfo info;
  if (auto rc = mdb_env_info(env_.get(), &info))
    return fail(rc, "mdb_env_info");
  auto current = info.me_mapsize;
  if (current >= opts_.max_map_size)
    return make_error(errc::storage_error,
                      "lmdb_store: " + opts_.path + " is full: map size " +
                          std::to_string(current) + " reached max_map_size " +
                          std::to_string(opts_.max_map_size));
  auto next =
      current > opts_.max_map_size / 2 ? opts_.max_map_size : current * 2;
  // mdb_env_set_mapsize requires that no transaction of this process is
  // open; a reset read transaction still holds the old mapping.
  read_txn_.abort();
  if (auto rc = mdb_env_set_mapsize(env_.get(), next))
    return fail(rc, "mdb_env_set_mapsize");
  ++map_growths_;
  return caf::none;
}

// -- maintenance --------------------------------------------------------------

caf::expected<size_t> lmdb_env::check_readers() {
  int dead = 0;
  if (auto rc = mdb_reader_check(env_.get(), &dead))
    return fail(rc, "mdb_reader_check");
  return static_cast<size_t>(dead);
}

caf::error lmdb_env::sync() {
  if (auto rc = mdb_env_sync(env_.get(), 1))
    return fail(rc, "mdb_env_sync");
  return caf::none;
}

caf::error lmdb_env::fail(int rc, const char* op) const {
  return make_error(errc::storage_error, std::string{"lmdb_store: "} + op +
                                             " failed for '" + opts_.path +
                                             "': " + mdb_strerror(rc));
}

} // namespace dine
