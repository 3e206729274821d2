#include "runtime/lmdb_store.hpp"

#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mutex>
#include <set>
#include <utility>

#include <unistd.h>

#include "messages/errc.hpp"

namespace fs = std::filesystem;

namespace dine {

// -- helpers ------------------------------------------------------------------

namespace {

constexpr size_t header_size = 8;

/// LMDB forbids opening one environment twice in a process (closing either
/// breaks the other's locks). Entries are (pid, canonical path), so a forked
/// child may open what its parent has open.
std::mutex registry_mtx;
std::set<std::pair<pid_t, std::string>> registry;

bool register_path(const std::string& path) {
  std::lock_guard<std::mutex> guard{registry_mtx};
  return registry.emplace(getpid(), path).second;
}

void store_le(uint8_t* p, uint64_t x) noexcept {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<uint8_t>(x >> (8 * i));
}

uint64_t load_le(const void* ptr) noexcept {
  auto p = static_cast<const uint8_t*>(ptr);
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i)
    x |= static_cast<uint64_t>(p[i]) << (8 * i);
  return x;
}

MDB_val to_val(std::string_view x) noexcept {
  return {x.size(), const_cast<char*>(x.data())};
}

bool expired(uint64_t expiry_ms, uint64_t now) noexcept {
  return expiry_ms != 0 && expiry_ms <= now;
}

/// Writes one record with `MDB_RESERVE`: header and value go straight into
/// the page, without an intermediate buffer.
int put_record(MDB_txn* t, MDB_dbi dbi, std::string_view key,
               const uint8_t* data, size_t size, uint64_t expiry_ms) noexcept {
  auto k = to_val(key);
  MDB_val v{header_size + size, nullptr};
  auto rc = mdb_put(t, dbi, &k, &v, MDB_RESERVE);
  if (rc != MDB_SUCCESS)
    return rc;
  auto out = static_cast<uint8_t*>(v.mv_data);
  store_le(out, expiry_ms);
  if (size > 0)
    memcpy(out + header_size, data, size);
  return MDB_SUCCESS;
}

caf::error exception_error(const char* op) {
  try {
    throw;
  } catch (const std::exception& ex) {
    return make_error(errc::storage_error,
                      std::string{"lmdb_store: "} + op + ": " + ex.what());
  } catch (...) {
    return make_error(errc::storage_error,
                      std::string{"lmdb_store: "} + op + ": unknown exception");
  }
}

/// Resets the cached read transaction when leaving a scope.
struct read_scope {
  MDB_txn* t;
  ~read_scope() { mdb_txn_reset(t); }
};

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

caf::expected<lmdb_store> lmdb_store::open(const lmdb_options& opts) {
  try {
    if (opts.path.empty())
      return make_error(errc::invalid_config, "lmdb_store: empty path");
    if (opts.map_size == 0 || opts.max_map_size < opts.map_size)
      return make_error(errc::invalid_config,
                        "lmdb_store: need 0 < map_size <= max_map_size");
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
    lmdb_store result;
    result.opts_ = opts;
    if (!register_path(canonical))
      return make_error(errc::storage_error, "lmdb_store: '" + canonical +
                                                 "' is already open in this"
                                                 " process");
    result.registered_path_ = std::move(canonical);
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
    return caf::expected<lmdb_store>{std::move(result)};
  } catch (...) {
    return exception_error("open");
  }
}

lmdb_store::lmdb_store(lmdb_store&& other) noexcept
    : opts_(std::move(other.opts_)),
      registered_path_(std::move(other.registered_path_)),
      map_growths_(other.map_growths_), max_key_size_(other.max_key_size_),
      dbi_(other.dbi_), env_(std::move(other.env_)),
      read_txn_(std::move(other.read_txn_)) {
  other.registered_path_.clear();
}

lmdb_store& lmdb_store::operator=(lmdb_store&& other) noexcept {
  if (this != &other) {
    read_txn_.abort();
    env_ = lmdb::env{};
    unregister();
    opts_ = std::move(other.opts_);
    registered_path_ = std::move(other.registered_path_);
    other.registered_path_.clear();
    map_growths_ = other.map_growths_;
    max_key_size_ = other.max_key_size_;
    dbi_ = other.dbi_;
    env_ = std::move(other.env_);
    read_txn_ = std::move(other.read_txn_);
  }
  return *this;
}

lmdb_store::~lmdb_store() {
  read_txn_.abort();
  env_ = lmdb::env{};
  unregister();
}

void lmdb_store::unregister() noexcept {
  if (registered_path_.empty())
    return;
  std::lock_guard<std::mutex> guard{registry_mtx};
  registry.erase(std::make_pair(getpid(), registered_path_));
  registered_path_.clear();
}

// -- reading ------------------------------------------------------------------

int lmdb_store::begin_read() noexcept {
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

caf::expected<int> lmdb_store::lookup(std::string_view key,
                                      std::vector<uint8_t>* out) {
  if (key.empty() || key.size() > max_key_size_)
    return 0; // LMDB cannot hold such a key: it is absent.
  uint64_t expiry = 0;
  {
    if (auto rc = begin_read())
      return fail(rc, "mdb_txn_begin(read)");
    read_scope guard{read_txn_.get()};
    auto k = to_val(key);
    MDB_val v;
    auto rc = mdb_get(read_txn_.get(), dbi_, &k, &v);
    if (rc == MDB_NOTFOUND)
      return 0;
    if (rc != MDB_SUCCESS)
      return fail(rc, "mdb_get");
    if (v.mv_size < header_size)
      return make_error(errc::storage_error,
                        "lmdb_store: malformed record for key '" +
                            std::string{key} + "' in " + opts_.path);
    expiry = load_le(v.mv_data);
    if (expiry == 0 || !expired(expiry, now_ms())) {
      if (out != nullptr) {
        auto first = static_cast<const uint8_t*>(v.mv_data) + header_size;
        out->assign(first, first + (v.mv_size - header_size));
      }
      return 1;
    }
  }
  if (auto err = delete_if_expired(key))
    return err;
  return 0;
}

caf::expected<std::optional<std::vector<uint8_t>>>
lmdb_store::get(std::string_view key) {
  try {
    std::vector<uint8_t> value;
    auto found = lookup(key, &value);
    if (!found)
      return std::move(found.error());
    if (*found == 0)
      return std::optional<std::vector<uint8_t>>{};
    return std::optional<std::vector<uint8_t>>{std::move(value)};
  } catch (...) {
    return exception_error("get");
  }
}

caf::expected<bool> lmdb_store::exists(std::string_view key) {
  try {
    auto found = lookup(key, nullptr);
    if (!found)
      return std::move(found.error());
    return *found == 1;
  } catch (...) {
    return exception_error("exists");
  }
}

caf::expected<size_t>
lmdb_store::for_each(const std::function<void(const lmdb_entry&)>& fn) {
  try {
    if (auto rc = begin_read())
      return fail(rc, "mdb_txn_begin(read)");
    read_scope guard{read_txn_.get()};
    lmdb::cursor c;
    if (auto rc = lmdb::cursor::open(read_txn_.get(), dbi_, c))
      return fail(rc, "mdb_cursor_open");
    auto now = now_ms();
    size_t n = 0;
    lmdb_entry e;
    MDB_val k;
    MDB_val v;
    auto rc = mdb_cursor_get(c.get(), &k, &v, MDB_FIRST);
    for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(c.get(), &k, &v, MDB_NEXT)) {
      if (v.mv_size < header_size)
        continue;
      e.expiry_ms = load_le(v.mv_data);
      if (expired(e.expiry_ms, now))
        continue;
      auto first = static_cast<const uint8_t*>(v.mv_data) + header_size;
      e.key.assign(static_cast<const char*>(k.mv_data), k.mv_size);
      e.value.assign(first, first + (v.mv_size - header_size));
      fn(e);
      ++n;
    }
    if (rc != MDB_NOTFOUND)
      return fail(rc, "mdb_cursor_get");
    return n;
  } catch (...) {
    return exception_error("for_each");
  }
}

// -- writing ------------------------------------------------------------------

caf::error lmdb_store::check_sizes(std::string_view key,
                                   size_t value_size) const {
  if (key.empty())
    return make_error(errc::storage_error, "lmdb_store: empty key");
  if (key.size() > max_key_size_)
    return make_error(errc::value_too_large,
                      "lmdb_store: key of " + std::to_string(key.size()) +
                          " bytes exceeds LMDB's maximum of " +
                          std::to_string(max_key_size_));
  if (value_size > opts_.max_value_size)
    return make_error(errc::value_too_large,
                      "lmdb_store: value of " + std::to_string(value_size) +
                          " bytes for key '" + std::string{key} +
                          "' exceeds max_value_size " +
                          std::to_string(opts_.max_value_size));
  return caf::none;
}

caf::error lmdb_store::write(const char* op,
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

caf::error lmdb_store::grow() {
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

caf::error lmdb_store::put(std::string_view key,
                           const std::vector<uint8_t>& value,
                           uint64_t expiry_ms) {
  try {
    if (auto err = check_sizes(key, value.size()))
      return err;
    return write("mdb_put", [&](MDB_txn* t) {
      return put_record(t, dbi_, key, value.data(), value.size(), expiry_ms);
    });
  } catch (...) {
    return exception_error("put");
  }
}

caf::error lmdb_store::put_batch(const std::vector<lmdb_entry>& entries) {
  try {
    if (entries.empty())
      return caf::none;
    for (auto& e : entries)
      if (auto err = check_sizes(e.key, e.value.size()))
        return err;
    return write("mdb_put(batch)", [&](MDB_txn* t) {
      for (auto& e : entries)
        if (auto rc = put_record(t, dbi_, e.key, e.value.data(), e.value.size(),
                                 e.expiry_ms))
          return rc;
      return MDB_SUCCESS;
    });
  } catch (...) {
    return exception_error("put_batch");
  }
}

caf::expected<bool> lmdb_store::erase(std::string_view key) {
  try {
    if (key.empty() || key.size() > max_key_size_)
      return false;
    bool live = false;
    auto err = write("mdb_del", [&](MDB_txn* t) {
      live = false;
      auto k = to_val(key);
      MDB_val v;
      auto rc = mdb_get(t, dbi_, &k, &v);
      if (rc != MDB_SUCCESS)
        return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
      live = v.mv_size >= header_size && !expired(load_le(v.mv_data), now_ms());
      return mdb_del(t, dbi_, &k, nullptr);
    });
    if (err)
      return err;
    return live;
  } catch (...) {
    return exception_error("erase");
  }
}

caf::error lmdb_store::delete_if_expired(std::string_view key) {
  return write("mdb_del(expired)", [&](MDB_txn* t) {
    auto k = to_val(key);
    MDB_val v;
    auto rc = mdb_get(t, dbi_, &k, &v);
    if (rc != MDB_SUCCESS)
      return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
    // Another process may have written a fresh value meanwhile.
    if (v.mv_size >= header_size && !expired(load_le(v.mv_data), now_ms()))
      return MDB_SUCCESS;
    return mdb_del(t, dbi_, &k, nullptr);
  });
}

caf::expected<size_t> lmdb_store::purge_expired() {
  try {
    size_t n = 0;
    auto err = write("purge_expired", [&](MDB_txn* t) {
      n = 0;
      lmdb::cursor c;
      if (auto rc = lmdb::cursor::open(t, dbi_, c))
        return rc;
      auto now = now_ms();
      MDB_val k;
      MDB_val v;
      auto rc = mdb_cursor_get(c.get(), &k, &v, MDB_FIRST);
      for (; rc == MDB_SUCCESS;
           rc = mdb_cursor_get(c.get(), &k, &v, MDB_NEXT)) {
        if (v.mv_size >= header_size && !expired(load_le(v.mv_data), now))
          continue;
        if ((rc = mdb_cursor_del(c.get(), 0)) != MDB_SUCCESS)
          return rc;
        ++n;
      }
      return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
    });
    if (err)
      return err;
    return n;
  } catch (...) {
    return exception_error("purge_expired");
  }
}

// -- maintenance --------------------------------------------------------------

caf::expected<size_t> lmdb_store::check_readers() {
  int dead = 0;
  if (auto rc = mdb_reader_check(env_.get(), &dead))
    return fail(rc, "mdb_reader_check");
  return static_cast<size_t>(dead);
}

caf::expected<lmdb_stats> lmdb_store::stats() {
  MDB_envinfo info;
  if (auto rc = mdb_env_info(env_.get(), &info))
    return fail(rc, "mdb_env_info");
  if (auto rc = begin_read())
    return fail(rc, "mdb_txn_begin(read)");
  read_scope guard{read_txn_.get()};
  MDB_stat st;
  if (auto rc = mdb_stat(read_txn_.get(), dbi_, &st))
    return fail(rc, "mdb_stat");
  lmdb_stats result;
  result.entries = st.ms_entries;
  result.map_size = info.me_mapsize;
  result.page_size = st.ms_psize;
  result.used_bytes =
      (static_cast<uint64_t>(info.me_last_pgno) + 1) * st.ms_psize;
  result.readers = info.me_numreaders;
  result.max_readers = info.me_maxreaders;
  result.map_growths = map_growths_;
  return result;
}

caf::error lmdb_store::sync() {
  if (auto rc = mdb_env_sync(env_.get(), 1))
    return fail(rc, "mdb_env_sync");
  return caf::none;
}

uint64_t lmdb_store::now_ms() const {
  if (opts_.now_ms)
    return opts_.now_ms();
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch())
          .count());
}

caf::error lmdb_store::fail(int rc, const char* op) const {
  return make_error(errc::storage_error, std::string{"lmdb_store: "} + op +
                                             " failed for '" + opts_.path +
                                             "': " + mdb_strerror(rc));
}

} // namespace dine
