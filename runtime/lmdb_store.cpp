#include "runtime/lmdb_store.hpp"

#include <chrono>
#include <cstring>
#include <exception>
#include <utility>

#include "messages/errc.hpp"
#include "runtime/expiry_record.hpp"

namespace dine {

// -- helpers ------------------------------------------------------------------

namespace {

MDB_val to_val(std::string_view x) noexcept {
  return {x.size(), const_cast<char*>(x.data())};
}

/// Writes one record with `MDB_RESERVE`: header and value go straight into
/// the page, without an intermediate buffer.
int put_record(MDB_txn* t, MDB_dbi dbi, std::string_view key,
               const uint8_t* data, size_t size, uint64_t expiry_ms) noexcept {
  auto k = to_val(key);
  MDB_val v{expiry_header_size + size, nullptr};
  auto rc = mdb_put(t, dbi, &k, &v, MDB_RESERVE);
  if (rc != MDB_SUCCESS)
    return rc;
  auto out = static_cast<uint8_t*>(v.mv_data);
  write_expiry(out, expiry_ms);
  if (size > 0)
    memcpy(out + expiry_header_size, data, size);
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

} // namespace

// -- opening and closing ------------------------------------------------------

caf::expected<lmdb_store> lmdb_store::open(const lmdb_options& opts) {
  try {
    if (opts.path.empty())
      return make_error(errc::invalid_config, "lmdb_store: empty path");
    if (opts.map_size == 0 || opts.max_map_size < opts.map_size)
      return make_error(errc::invalid_config,
                        "lmdb_store: need 0 < map_size <= max_map_size");
    lmdb_env_options eo;
    eo.path = opts.path;
    eo.map_size = opts.map_size;
    eo.max_map_size = opts.max_map_size;
    eo.max_readers = opts.max_readers;
    eo.sync = opts.sync;
    auto env = lmdb_env::open(eo);
    if (!env)
      return std::move(env.error());
    return caf::expected<lmdb_store>{lmdb_store{opts, std::move(*env)}};
  } catch (...) {
    return exception_error("open");
  }
}

// -- reading ------------------------------------------------------------------

caf::expected<int> lmdb_store::lookup(std::string_view key,
                                      std::vector<uint8_t>* out) {
  if (key.empty() || key.size() > env_.max_key_size())
    return 0; // LMDB cannot hold such a key: it is absent.
  uint64_t expiry = 0;
  {
    if (auto rc = env_.begin_read())
      return env_.fail(rc, "mdb_txn_begin(read)");
    lmdb_env::read_scope guard{env_.read_txn()};
    auto k = to_val(key);
    MDB_val v;
    auto rc = mdb_get(env_.read_txn(), env_.dbi(), &k, &v);
    if (rc == MDB_NOTFOUND)
      return 0;
    if (rc != MDB_SUCCESS)
      return env_.fail(rc, "mdb_get");
    if (v.mv_size < expiry_header_size)
      return make_error(errc::storage_error,
                        "lmdb_store: malformed record for key '" +
                            std::string{key} + "' in " + opts_.path);
    expiry = read_expiry(v.mv_data);
    if (expiry == 0 || !is_expired(expiry, now_ms())) {
      if (out != nullptr) {
        auto first =
            static_cast<const uint8_t*>(v.mv_data) + expiry_header_size;
        out->assign(first, first + (v.mv_size - expiry_header_size));
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
    if (auto rc = env_.begin_read())
      return env_.fail(rc, "mdb_txn_begin(read)");
    lmdb_env::read_scope guard{env_.read_txn()};
    lmdb::cursor c;
    if (auto rc = lmdb::cursor::open(env_.read_txn(), env_.dbi(), c))
      return env_.fail(rc, "mdb_cursor_open");
    auto now = now_ms();
    size_t n = 0;
    lmdb_entry e;
    MDB_val k;
    MDB_val v;
    auto rc = mdb_cursor_get(c.get(), &k, &v, MDB_FIRST);
    for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(c.get(), &k, &v, MDB_NEXT)) {
      if (v.mv_size < expiry_header_size)
        continue;
      e.expiry_ms = read_expiry(v.mv_data);
      if (is_expired(e.expiry_ms, now))
        continue;
      auto first = static_cast<const uint8_t*>(v.mv_data) + expiry_header_size;
      e.key.assign(static_cast<const char*>(k.mv_data), k.mv_size);
      e.value.assign(first, first + (v.mv_size - expiry_header_size));
      fn(e);
      ++n;
    }
    if (rc != MDB_NOTFOUND)
      return env_.fail(rc, "mdb_cursor_get");
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
  if (key.size() > env_.max_key_size())
    return make_error(errc::value_too_large,
                      "lmdb_store: key of " + std::to_string(key.size()) +
                          " bytes exceeds LMDB's maximum of " +
                          std::to_string(env_.max_key_size()));
  if (value_size > opts_.max_value_size)
    return make_error(errc::value_too_large,
                      "lmdb_store: value of " + std::to_string(value_size) +
                          " bytes for key '" + std::string{key} +
                          "' exceeds max_value_size " +
                          std::to_string(opts_.max_value_size));
  return caf::none;
}

caf::error lmdb_store::put(std::string_view key,
                           const std::vector<uint8_t>& value,
                           uint64_t expiry_ms) {
  try {
    if (auto err = check_sizes(key, value.size()))
      return err;
    return env_.write("mdb_put", [&](MDB_txn* t) {
      return put_record(t, env_.dbi(), key, value.data(), value.size(),
                        expiry_ms);
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
    return env_.write("mdb_put(batch)", [&](MDB_txn* t) {
      for (auto& e : entries)
        if (auto rc = put_record(t, env_.dbi(), e.key, e.value.data(),
                                 e.value.size(), e.expiry_ms))
          return rc;
      return MDB_SUCCESS;
    });
  } catch (...) {
    return exception_error("put_batch");
  }
}

caf::expected<bool> lmdb_store::erase(std::string_view key) {
  try {
    if (key.empty() || key.size() > env_.max_key_size())
      return false;
    bool live = false;
    auto err = env_.write("mdb_del", [&](MDB_txn* t) {
      live = false;
      auto k = to_val(key);
      MDB_val v;
      auto rc = mdb_get(t, env_.dbi(), &k, &v);
      if (rc != MDB_SUCCESS)
        return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
      live = v.mv_size >= expiry_header_size &&
             !is_expired(read_expiry(v.mv_data), now_ms());
      return mdb_del(t, env_.dbi(), &k, nullptr);
    });
    if (err)
      return err;
    return live;
  } catch (...) {
    return exception_error("erase");
  }
}

caf::error lmdb_store::delete_if_expired(std::string_view key) {
  return env_.write("mdb_del(expired)", [&](MDB_txn* t) {
    auto k = to_val(key);
    MDB_val v;
    auto rc = mdb_get(t, env_.dbi(), &k, &v);
    if (rc != MDB_SUCCESS)
      return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
    // Another process may have written a fresh value meanwhile.
    if (v.mv_size >= expiry_header_size &&
        !is_expired(read_expiry(v.mv_data), now_ms()))
      return MDB_SUCCESS;
    return mdb_del(t, env_.dbi(), &k, nullptr);
  });
}

caf::expected<size_t> lmdb_store::purge_expired() {
  try {
    size_t n = 0;
    auto err = env_.write("purge_expired", [&](MDB_txn* t) {
      n = 0;
      lmdb::cursor c;
      if (auto rc = lmdb::cursor::open(t, env_.dbi(), c))
        return rc;
      auto now = now_ms();
      MDB_val k;
      MDB_val v;
      auto rc = mdb_cursor_get(c.get(), &k, &v, MDB_FIRST);
      for (; rc == MDB_SUCCESS;
           rc = mdb_cursor_get(c.get(), &k, &v, MDB_NEXT)) {
        if (v.mv_size >= expiry_header_size &&
            !is_expired(read_expiry(v.mv_data), now))
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

caf::expected<lmdb_stats> lmdb_store::stats() {
  MDB_envinfo info;
  if (auto rc = mdb_env_info(env_.get(), &info))
    return env_.fail(rc, "mdb_env_info");
  if (auto rc = env_.begin_read())
    return env_.fail(rc, "mdb_txn_begin(read)");
  lmdb_env::read_scope guard{env_.read_txn()};
  MDB_stat st;
  if (auto rc = mdb_stat(env_.read_txn(), env_.dbi(), &st))
    return env_.fail(rc, "mdb_stat");
  lmdb_stats result;
  result.entries = st.ms_entries;
  result.map_size = info.me_mapsize;
  result.page_size = st.ms_psize;
  result.used_bytes =
      (static_cast<uint64_t>(info.me_last_pgno) + 1) * st.ms_psize;
  result.readers = info.me_numreaders;
  result.max_readers = info.me_maxreaders;
  result.map_growths = env_.map_growths();
  return result;
}

uint64_t lmdb_store::now_ms() const {
  if (opts_.now_ms)
    return opts_.now_ms();
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch())
          .count());
}

caf::expected<size_t> lmdb_store::check_readers() {
  return env_.check_readers();
}

caf::error lmdb_store::sync() {
  return env_.sync();
}

} // namespace dine
