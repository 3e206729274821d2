#include "runtime/lru_cache.hpp"

#include <iterator>
#include <utility>

namespace dine {

lru_cache::lru_cache(size_t max_entries, size_t max_bytes, clock_fn clock)
    : max_entries_(max_entries), max_bytes_(max_bytes),
      clock_(std::move(clock)) {
  // Nothing else to do.
}

const std::vector<uint8_t>* lru_cache::get(std::string_view key) {
  auto i = index_.find(key);
  if (i == index_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  auto node = i->second;
  if (drop_if_expired(node, now())) {
    ++stats_.misses;
    return nullptr;
  }
  entries_.splice(entries_.begin(), entries_, node);
  ++stats_.hits;
  return &node->value;
}

bool lru_cache::set(std::string key, std::vector<uint8_t> value,
                    std::chrono::nanoseconds ttl) {
  if (ttl.count() <= 0)
    return set_until(std::move(key), std::move(value), never);
  auto t = now();
  // Saturate instead of overflowing for huge TTLs.
  auto expiry = ttl < never - t ? t + ttl : never;
  return set_until(std::move(key), std::move(value), expiry);
}

bool lru_cache::set_until(std::string key, std::vector<uint8_t> value,
                          time_point expiry) {
  auto entry_bytes = key.size() + value.size();
  bool fits = max_entries_ > 0 && entry_bytes <= max_bytes_ &&
              (expiry == never || expiry > now());
  auto i = index_.find(key);
  if (i != index_.end()) {
    auto node = i->second;
    if (!fits) {
      remove(node);
      ++stats_.rejected;
      return false;
    }
    bytes_ = bytes_ - node->value.size() + value.size();
    node->value = std::move(value);
    node->expiry = expiry;
    entries_.splice(entries_.begin(), entries_, node);
    shrink();
    return true;
  }
  if (!fits) {
    ++stats_.rejected;
    return false;
  }
  try {
    entries_.push_front(node{std::move(key), std::move(value), expiry});
  } catch (...) {
    ++stats_.rejected;
    return false;
  }
  try {
    index_.emplace(entries_.front().key, entries_.begin());
  } catch (...) {
    entries_.pop_front();
    ++stats_.rejected;
    return false;
  }
  bytes_ += entry_bytes;
  shrink();
  return true;
}

bool lru_cache::erase(std::string_view key) {
  auto i = index_.find(key);
  if (i == index_.end())
    return false;
  auto node = i->second;
  if (drop_if_expired(node, now()))
    return false;
  remove(node);
  return true;
}

bool lru_cache::exists(std::string_view key) {
  auto i = index_.find(key);
  return i != index_.end() && !drop_if_expired(i->second, now());
}

size_t lru_cache::purge_expired() {
  auto t = now();
  size_t n = 0;
  for (auto i = entries_.begin(); i != entries_.end();) {
    auto next = std::next(i);
    if (drop_if_expired(i, t))
      ++n;
    i = next;
  }
  return n;
}

void lru_cache::clear() {
  index_.clear();
  entries_.clear();
  bytes_ = 0;
}

void lru_cache::remove(list_type::iterator i) {
  bytes_ -= i->bytes();
  index_.erase(std::string_view{i->key});
  entries_.erase(i);
}

bool lru_cache::drop_if_expired(list_type::iterator i, time_point now) {
  if (i->expiry == never || i->expiry > now)
    return false;
  remove(i);
  ++stats_.expirations;
  return true;
}

void lru_cache::shrink() {
  // The front entry fits on its own, so the loop never removes it.
  auto t = time_point{};
  bool have_time = false;
  while (index_.size() > max_entries_ || bytes_ > max_bytes_) {
    auto victim = std::prev(entries_.end());
    if (victim->expiry != never) {
      if (!have_time) {
        t = now();
        have_time = true;
      }
      if (drop_if_expired(victim, t))
        continue;
    }
    remove(victim);
    ++stats_.evictions;
  }
}

} // namespace dine
