#include "actors/cache.hpp"

#include <caf/actor_cast.hpp>
#include <caf/all.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <tuple>
#include <utility>

#include "messages/errc.hpp"

namespace dine {

namespace {

using self_pointer = cache_state::self_pointer;

uint64_t system_now_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch())
          .count());
}

/// The message of an LMDB error, without category decoration.
std::string describe(const caf::error& err) {
  return classify(err).second;
}

bool is_config_error(const caf::error& err) {
  return err.category() == errc_category &&
         err.code() == static_cast<uint8_t>(errc::invalid_config);
}

} // namespace

// -- construction and destruction ---------------------------------------------

cache_state::cache_state(self_pointer ptr) : self(ptr) {
  // Everything else happens in `init`.
}

cache_state::~cache_state() {
  // Runs in `on_exit` for every termination, including `exit_reason::kill`.
  if (phase != disk_phase::open || !disk || pending.empty())
    return;
  try {
    auto batch = pending.take();
    if (auto err = disk->put_batch(batch); err && opts.log_errors)
      fprintf(stderr, "cache %s: final flush of %zu entries failed: %s\n",
              opts.dir.c_str(), batch.size(), describe(err).c_str());
  } catch (...) {
    // Nothing left to do: the entries are lost, like on a crash.
  }
}

void cache_state::init(cache_options x) {
  opts = std::move(x);
  auto clock = opts.now_ms;
  memory =
      std::make_unique<lru_cache>(opts.max_entries, opts.max_bytes, [clock] {
        return to_lru_time(clock ? clock() : system_now_ms());
      });
  auto now = self->clock().now();
  next_log = now;
  open_retry_at = now;
  try_open();
}

uint64_t cache_state::now_ms() const {
  return opts.now_ms ? opts.now_ms() : system_now_ms();
}

// -- opening the disk ---------------------------------------------------------

void cache_state::try_open() {
  lmdb_options lo;
  lo.path = opts.dir;
  lo.map_size = opts.map_size;
  lo.max_map_size = opts.max_map_size;
  lo.max_value_size = std::max(opts.max_value_bytes,
                               opts.max_value_bytes + cache_record_header);
  lo.sync = opts.sync;
  lo.now_ms = opts.now_ms;
  auto res = lmdb_store::open(lo);
  if (res) {
    disk.emplace(std::move(*res));
    phase = disk_phase::open;
    on_open();
    return;
  }
  // The previous incarnation may still hold the directory for a moment
  // (the store refuses a second open in one process): retry.
  auto& err = res.error();
  if (++open_failures < opts.open_attempts && !is_config_error(err)) {
    open_retry_at = self->clock().now() + opts.open_retry_delay;
    self->delayed_send(self, opts.open_retry_delay, tick_atom::value);
    return;
  }
  phase = disk_phase::failed;
  pending.clear();
  pending_erases.clear();
  ++counters.errors;
  auto what = "cannot open LMDB after " + std::to_string(open_failures) +
              " attempt(s): " + classify(err).second;
  if (opts.require_disk) {
    log(what + "; terminating (require_disk)");
    fatal = make_error(errc::storage_error, "cache: " + what);
    self->send(self, tick_atom::value); // quit from a handler
    return;
  }
  log(what + "; serving from memory only");
}

void cache_state::on_open() {
  for (auto& key : pending_erases)
    if (auto res = disk->erase(key); !res) {
      ++counters.errors;
      log("delete failed: " + describe(res.error()));
    }
  pending_erases.clear();
  maintain(true);
  if (opts.load_on_start) {
    auto res = disk->for_each([this](const lmdb_entry& e) {
      if (e.value.size() < cache_record_header ||
          memory->size() >= memory->max_entries() ||
          memory->bytes() + e.key.size() + e.value.size() -
                  cache_record_header >
              memory->max_bytes())
        return; // malformed, or no room left: stays on disk
      std::vector<uint8_t> value(e.value.begin() + cache_record_header,
                                 e.value.end());
      memory->set_until(e.key, std::move(value),
                        to_lru_expiry(cache_record_expiry(e.value)));
    });
    if (!res) {
      ++counters.errors;
      log("loading entries failed: " + describe(res.error()));
    }
  }
  if (!pending.empty())
    flush();
}

// -- timers and maintenance ---------------------------------------------------

void cache_state::on_tick() {
  if (fatal) {
    self->quit(fatal);
    return;
  }
  flush_armed = false;
  if (phase == disk_phase::opening && self->clock().now() >= open_retry_at)
    try_open();
  flush();
}

void cache_state::arm_flush() {
  if (flush_armed)
    return;
  flush_armed = true;
  self->delayed_send(self, opts.flush_interval, tick_atom::value);
}

void cache_state::maintain(bool force) {
  auto now = self->clock().now();
  if (force || now >= next_reader_check) {
    next_reader_check = now + opts.reader_check_interval;
    if (auto res = disk->check_readers(); !res) {
      ++counters.errors;
      log("reader check failed: " + describe(res.error()));
    }
  }
  if (force || (opts.purge_interval.count() > 0 && now >= next_purge)) {
    next_purge = now + opts.purge_interval;
    if (auto res = disk->purge_expired(); !res) {
      ++counters.errors;
      log("purging expired entries failed: " + describe(res.error()));
    }
  }
}

bool cache_state::flush() {
  if (pending.empty() || phase != disk_phase::open)
    return pending.empty();
  maintain(false);
  auto batch = pending.take();
  if (auto err = disk->put_batch(batch)) {
    // The entries stay in memory (unless evicted); the disk misses them.
    ++counters.errors;
    log("flush of " + std::to_string(batch.size()) +
        " entries failed, dropped from disk: " + describe(err));
    return false;
  }
  ++counters.flushes;
  counters.writes += batch.size();
  return true;
}

void cache_state::log(const std::string& what) {
  if (!opts.log_errors)
    return;
  auto now = self->clock().now();
  if (now < next_log) {
    ++suppressed_logs;
    return;
  }
  next_log = now + std::chrono::seconds{1};
  auto line = "cache " + opts.dir + ": " + what;
  if (suppressed_logs > 0)
    line += " (" + std::to_string(suppressed_logs) + " messages suppressed)";
  suppressed_logs = 0;
  caf::aout(self) << line << std::endl;
}

// -- operations ---------------------------------------------------------------

bool cache_state::fetch(const std::string& key, std::vector<uint8_t>& out) {
  if (auto value = memory->get(key)) {
    out = *value;
    ++counters.hits;
    return true;
  }
  // Evicted from memory (or too large for it) but not yet flushed.
  if (auto rec = pending.find(key)) {
    auto expiry = cache_record_expiry(*rec);
    if (!cache_expired(expiry, now_ms())) {
      out.assign(rec->begin() + cache_record_header, rec->end());
      memory->set_until(key, out, to_lru_expiry(expiry));
      ++counters.hits;
      return true;
    }
    ++counters.expirations;
  } else if (phase == disk_phase::open) {
    auto res = disk->get(key);
    if (!res) {
      ++counters.errors;
      log("read failed: " + describe(res.error()));
    } else if (*res) {
      auto rec = decode_cache_record(std::move(**res));
      if (!rec) {
        ++counters.errors;
        log("malformed record for key '" + key + "'");
      } else if (cache_expired(rec->expiry_ms, now_ms())) {
        ++counters.expirations;
      } else {
        memory->set_until(key, rec->value, to_lru_expiry(rec->expiry_ms));
        out = std::move(rec->value);
        ++counters.hits;
        ++counters.disk_hits;
        return true;
      }
    }
  }
  ++counters.misses;
  return false;
}

bool cache_state::store(cache_entry& x) {
  if (x.key.empty() || x.key.size() > cache_max_key_bytes ||
      x.value.size() > opts.max_value_bytes) {
    ++counters.rejected;
    erase(x.key); // never serve the value this put replaced
    return false;
  }
  auto expiry = cache_expiry_ms(
      now_ms(), x.ttl_ms, static_cast<uint64_t>(opts.default_ttl.count()));
  // While the disk is still opening, the buffer cannot be flushed: bound it.
  bool buffered = false;
  if (phase == disk_phase::open || (phase == disk_phase::opening &&
                                    pending.bytes() < opts.max_pending_bytes)) {
    pending.put(x.key, encode_cache_record(expiry, x.value), expiry);
    buffered = true;
  } else if (phase == disk_phase::opening) {
    // Memory only; an older value must not come back from the disk.
    pending.erase(x.key);
    pending_erases.push_back(x.key);
  }
  auto in_memory = memory->set_until(std::move(x.key), std::move(x.value),
                                     to_lru_expiry(expiry));
  if (buffered) {
    if (pending.bytes() >= opts.max_pending_bytes)
      flush();
    else if (!write_through())
      arm_flush();
  }
  return in_memory || buffered;
}

bool cache_state::erase(const std::string& key) {
  auto live = memory->erase(key);
  if (auto rec = pending.find(key)) {
    live = live || !cache_expired(cache_record_expiry(*rec), now_ms());
    pending.erase(key);
  }
  if (phase == disk_phase::open) {
    auto res = disk->erase(key);
    if (!res) {
      ++counters.errors;
      log("delete failed: " + describe(res.error()));
    } else {
      live = live || *res;
    }
  } else if (phase == disk_phase::opening) {
    pending_erases.push_back(key);
  }
  return live;
}

bool cache_state::contains(const std::string& key) {
  if (memory->exists(key))
    return true;
  if (auto rec = pending.find(key))
    return !cache_expired(cache_record_expiry(*rec), now_ms());
  if (phase != disk_phase::open)
    return false;
  auto res = disk->exists(key);
  if (!res) {
    ++counters.errors;
    log("read failed: " + describe(res.error()));
    return false;
  }
  return *res;
}

cache_stats cache_state::snapshot() {
  auto result = counters;
  auto& ms = memory->stats();
  result.evictions = ms.evictions;
  result.expirations += ms.expirations;
  result.entries = memory->size();
  result.bytes = memory->bytes();
  if (phase == disk_phase::open) {
    if (auto st = disk->stats()) {
      result.lmdb_entries = st->entries;
      result.lmdb_map_bytes = st->map_size;
      result.lmdb_used_bytes = st->used_bytes;
    } else {
      ++counters.errors;
      log("stats failed: " + describe(st.error()));
    }
  }
  return result;
}

// -- behavior -----------------------------------------------------------------

namespace {

/// Runs `f`; an exception becomes a counted error and `fallback`.
template <class F, class T>
T guarded(self_pointer self, F f, T fallback) {
  try {
    return f();
  } catch (const std::exception& ex) {
    ++self->state.counters.errors;
    caf::aout(self) << "cache: exception in handler: " << ex.what()
                    << std::endl;
  } catch (...) {
    ++self->state.counters.errors;
  }
  return fallback;
}

} // namespace

cache_actor::behavior_type cache(self_pointer self, cache_options opts) {
  // A safety net: the handlers catch everything themselves.
  self->set_exception_handler([](caf::scheduled_actor*, std::exception_ptr&) {
    return make_error(errc::internal, "cache: unexpected exception");
  });
  self->state.init(std::move(opts));
  return {
      [=](const cache_lookup& req) {
        auto& st = self->state;
        cache_hits result;
        result.tag = req.tag;
        guarded(
            self,
            [&] {
              auto n = req.keys.size();
              result.found.assign(n, 0);
              result.values.resize(n);
              for (size_t i = 0; i < n; ++i)
                result.found[i] =
                    st.fetch(req.keys[i], result.values[i]) ? 1 : 0;
              return true;
            },
            false);
        return result;
      },
      [=](std::vector<cache_entry>& xs) {
        auto& st = self->state;
        guarded(
            self,
            [&] {
              for (auto& x : xs)
                st.store(x);
              if (st.write_through())
                st.flush();
              return true;
            },
            false);
      },
      [=](caf::get_atom, const std::string& key) {
        std::vector<uint8_t> value;
        auto found = guarded(
            self, [&] { return self->state.fetch(key, value); }, false);
        if (!found)
          value.clear();
        return std::make_tuple(found, std::move(value));
      },
      [=](caf::put_atom, cache_entry& x) {
        auto& st = self->state;
        return guarded(
            self,
            [&] {
              auto stored = st.store(x);
              if (st.write_through())
                st.flush();
              return stored;
            },
            false);
      },
      [=](caf::delete_atom, const std::string& key) {
        return guarded(
            self, [&] { return self->state.erase(key); }, false);
      },
      [=](exists_atom, const std::string& key) {
        return guarded(
            self, [&] { return self->state.contains(key); }, false);
      },
      [=](stats_atom) {
        return guarded(
            self, [&] { return self->state.snapshot(); }, self->state.counters);
      },
      [=](tick_atom) {
        guarded(
            self,
            [&] {
              self->state.on_tick();
              return true;
            },
            false);
      },
  };
}

caf::expected<cache_options> make_cache_options(const cache_settings& x) {
  auto sync = parse_lmdb_sync_mode(x.sync);
  if (!sync)
    return std::move(sync.error());
  cache_options result;
  result.dir = x.dir;
  result.max_entries = static_cast<size_t>(x.max_entries);
  result.max_bytes = static_cast<size_t>(x.max_bytes);
  result.default_ttl = std::chrono::milliseconds{x.ttl_ms};
  result.max_value_bytes = static_cast<size_t>(x.max_value_bytes);
  result.sync = *sync;
  result.flush_interval = std::chrono::microseconds{x.flush_us};
  return result;
}

cache_actor spawn_cache(caf::actor_system& sys, cache_options opts,
                        bool detached) {
  if (detached)
    return sys.spawn<caf::detached>(cache, std::move(opts));
  return sys.spawn(cache, std::move(opts));
}

supervised_child cache_child(std::string id, cache_options opts,
                             std::chrono::milliseconds shutdown) {
  child_factory start = [opts](caf::local_actor* self) {
    return caf::actor_cast<caf::actor>(self->spawn<caf::detached>(cache, opts));
  };
  return {child_spec{std::move(id), restart_type::permanent, shutdown},
          std::move(start)};
}

} // namespace dine
