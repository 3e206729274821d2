#include "runtime/tiered_cache.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "messages/errc.hpp"

namespace dine {

namespace {

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

// -- construction and destruction ---------------------------------------------

tiered_cache::tiered_cache(cache_options opts, tiered_cache_host host)
    : opts_(std::move(opts)), host_(std::move(host)) {
  auto clock = opts_.now_ms;
  memory_ =
      std::make_unique<lru_cache>(opts_.max_entries, opts_.max_bytes, [clock] {
        return to_lru_time(clock ? clock() : system_now_ms());
      });
  auto now = host_.now();
  next_log_ = now;
  open_retry_at_ = now;
  try_open();
}

tiered_cache::~tiered_cache() {
  // The host's last chance: the actor destroys its state (and this) in
  // `on_exit` for every termination, including `exit_reason::kill`.
  if (phase_ != disk_phase::open || !disk_ || pending_.empty())
    return;
  try {
    auto batch = pending_.take();
    if (auto err = disk_->put_batch(batch); err && opts_.log_errors)
      fprintf(stderr, "cache %s: final flush of %zu entries failed: %s\n",
              opts_.dir.c_str(), batch.size(), describe(err).c_str());
  } catch (...) {
    // Nothing left to do: the entries are lost, like on a crash.
  }
}

uint64_t tiered_cache::now_ms() const {
  return opts_.now_ms ? opts_.now_ms() : system_now_ms();
}

// -- opening the disk ---------------------------------------------------------

void tiered_cache::try_open() {
  lmdb_options lo;
  lo.path = opts_.dir;
  lo.map_size = opts_.map_size;
  lo.max_map_size = opts_.max_map_size;
  lo.max_value_size = std::max(opts_.max_value_bytes,
                               opts_.max_value_bytes + cache_record_header);
  lo.sync = opts_.sync;
  lo.now_ms = opts_.now_ms;
  auto res = lmdb_store::open(lo);
  if (res) {
    disk_.emplace(std::move(*res));
    phase_ = disk_phase::open;
    on_open();
    return;
  }
  // The previous incarnation may still hold the directory for a moment
  // (the store refuses a second open in one process): retry.
  auto& err = res.error();
  if (++open_failures_ < opts_.open_attempts && !is_config_error(err)) {
    open_retry_at_ = host_.now() + opts_.open_retry_delay;
    host_.wake_after(opts_.open_retry_delay);
    return;
  }
  phase_ = disk_phase::failed;
  pending_.clear();
  pending_erases_.clear();
  ++counters_.errors;
  auto what = "cannot open LMDB after " + std::to_string(open_failures_) +
              " attempt(s): " + classify(err).second;
  if (opts_.require_disk) {
    log(what + "; terminating (require_disk)");
    fatal_ = make_error(errc::storage_error, "cache: " + what);
    host_.wake_after(std::chrono::microseconds{0}); // stop from a handler
    return;
  }
  log(what + "; serving from memory only");
}

void tiered_cache::on_open() {
  for (auto& key : pending_erases_)
    if (auto res = disk_->erase(key); !res) {
      ++counters_.errors;
      log("delete failed: " + describe(res.error()));
    }
  pending_erases_.clear();
  maintain(true);
  if (opts_.load_on_start) {
    auto res = disk_->for_each([this](const lmdb_entry& e) {
      if (e.value.size() < cache_record_header ||
          memory_->size() >= memory_->max_entries() ||
          memory_->bytes() + e.key.size() + e.value.size() -
                  cache_record_header >
              memory_->max_bytes())
        return; // malformed, or no room left: stays on disk
      std::vector<uint8_t> value(e.value.begin() + cache_record_header,
                                 e.value.end());
      memory_->set_until(e.key, std::move(value),
                         to_lru_expiry(cache_record_expiry(e.value)));
    });
    if (!res) {
      ++counters_.errors;
      log("loading entries failed: " + describe(res.error()));
    }
  }
  if (!pending_.empty())
    flush();
}

// -- timers and maintenance ---------------------------------------------------

void tiered_cache::on_tick() {
  flush_armed_ = false;
  if (phase_ == disk_phase::opening && host_.now() >= open_retry_at_)
    try_open();
  flush();
}

void tiered_cache::arm_flush() {
  if (flush_armed_)
    return;
  flush_armed_ = true;
  host_.wake_after(opts_.flush_interval);
}

void tiered_cache::maintain(bool force) {
  auto now = host_.now();
  if (force || now >= next_reader_check_) {
    next_reader_check_ = now + opts_.reader_check_interval;
    if (auto res = disk_->check_readers(); !res) {
      ++counters_.errors;
      log("reader check failed: " + describe(res.error()));
    }
  }
  if (force || (opts_.purge_interval.count() > 0 && now >= next_purge_)) {
    next_purge_ = now + opts_.purge_interval;
    if (auto res = disk_->purge_expired(); !res) {
      ++counters_.errors;
      log("purging expired entries failed: " + describe(res.error()));
    }
  }
}

bool tiered_cache::flush() {
  if (pending_.empty() || phase_ != disk_phase::open)
    return pending_.empty();
  maintain(false);
  auto batch = pending_.take();
  if (auto err = disk_->put_batch(batch)) {
    // The entries stay in memory (unless evicted); the disk misses them.
    ++counters_.errors;
    log("flush of " + std::to_string(batch.size()) +
        " entries failed, dropped from disk: " + describe(err));
    return false;
  }
  ++counters_.flushes;
  counters_.writes += batch.size();
  return true;
}

void tiered_cache::log(const std::string& what) {
  if (!opts_.log_errors)
    return;
  auto now = host_.now();
  if (now < next_log_) {
    ++suppressed_logs_;
    return;
  }
  next_log_ = now + std::chrono::seconds{1};
  auto line = "cache " + opts_.dir + ": " + what;
  if (suppressed_logs_ > 0)
    line += " (" + std::to_string(suppressed_logs_) + " messages suppressed)";
  suppressed_logs_ = 0;
  if (host_.print)
    host_.print(line);
}

// -- operations ---------------------------------------------------------------

bool tiered_cache::fetch(const std::string& key, std::vector<uint8_t>& out) {
  if (auto value = memory_->get(key)) {
    out = *value;
    ++counters_.hits;
    return true;
  }
  // Evicted from memory (or too large for it) but not yet flushed.
  if (auto rec = pending_.find(key)) {
    auto expiry = cache_record_expiry(*rec);
    if (!is_expired(expiry, now_ms())) {
      out.assign(rec->begin() + cache_record_header, rec->end());
      memory_->set_until(key, out, to_lru_expiry(expiry));
      ++counters_.hits;
      return true;
    }
    ++counters_.expirations;
  } else if (phase_ == disk_phase::open) {
    auto res = disk_->get(key);
    if (!res) {
      ++counters_.errors;
      log("read failed: " + describe(res.error()));
    } else if (*res) {
      auto rec = decode_cache_record(std::move(**res));
      if (!rec) {
        ++counters_.errors;
        log("malformed record for key '" + key + "'");
      } else if (is_expired(rec->expiry_ms, now_ms())) {
        ++counters_.expirations;
      } else {
        memory_->set_until(key, rec->value, to_lru_expiry(rec->expiry_ms));
        out = std::move(rec->value);
        ++counters_.hits;
        ++counters_.disk_hits;
        return true;
      }
    }
  }
  ++counters_.misses;
  return false;
}

bool tiered_cache::store(cache_entry& x) {
  if (x.key.empty() || x.key.size() > cache_max_key_bytes ||
      x.value.size() > opts_.max_value_bytes) {
    ++counters_.rejected;
    erase(x.key); // never serve the value this put replaced
    return false;
  }
  auto expiry = cache_expiry_ms(
      now_ms(), x.ttl_ms, static_cast<uint64_t>(opts_.default_ttl.count()));
  // While the disk is still opening, the buffer cannot be flushed: bound it.
  bool buffered = false;
  if (phase_ == disk_phase::open ||
      (phase_ == disk_phase::opening &&
       pending_.bytes() < opts_.max_pending_bytes)) {
    pending_.put(x.key, encode_cache_record(expiry, x.value), expiry);
    buffered = true;
  } else if (phase_ == disk_phase::opening) {
    // Memory only; an older value must not come back from the disk.
    pending_.erase(x.key);
    pending_erases_.push_back(x.key);
  }
  auto in_memory = memory_->set_until(std::move(x.key), std::move(x.value),
                                      to_lru_expiry(expiry));
  if (buffered) {
    if (pending_.bytes() >= opts_.max_pending_bytes)
      flush();
    else if (!write_through())
      arm_flush();
  }
  return in_memory || buffered;
}

bool tiered_cache::erase(const std::string& key) {
  auto live = memory_->erase(key);
  if (auto rec = pending_.find(key)) {
    live = live || !is_expired(cache_record_expiry(*rec), now_ms());
    pending_.erase(key);
  }
  if (phase_ == disk_phase::open) {
    auto res = disk_->erase(key);
    if (!res) {
      ++counters_.errors;
      log("delete failed: " + describe(res.error()));
    } else {
      live = live || *res;
    }
  } else if (phase_ == disk_phase::opening) {
    pending_erases_.push_back(key);
  }
  return live;
}

bool tiered_cache::contains(const std::string& key) {
  if (memory_->exists(key))
    return true;
  if (auto rec = pending_.find(key))
    return !is_expired(cache_record_expiry(*rec), now_ms());
  if (phase_ != disk_phase::open)
    return false;
  auto res = disk_->exists(key);
  if (!res) {
    ++counters_.errors;
    log("read failed: " + describe(res.error()));
    return false;
  }
  return *res;
}

cache_stats tiered_cache::snapshot() {
  auto result = counters_;
  auto& ms = memory_->stats();
  result.evictions = ms.evictions;
  result.expirations += ms.expirations;
  result.entries = memory_->size();
  result.bytes = memory_->bytes();
  if (phase_ == disk_phase::open) {
    if (auto st = disk_->stats()) {
      result.lmdb_entries = st->entries;
      result.lmdb_map_bytes = st->map_size;
      result.lmdb_used_bytes = st->used_bytes;
    } else {
      ++counters_.errors;
      log("stats failed: " + describe(st.error()));
    }
  }
  return result;
}

} // namespace dine
