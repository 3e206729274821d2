#include "runtime/cache_policy.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace dine {

uint64_t cache_expiry_ms(uint64_t now_ms, uint64_t ttl_ms,
                         uint64_t default_ttl_ms) noexcept {
  auto ttl = ttl_ms != 0 ? ttl_ms : default_ttl_ms;
  if (ttl == 0)
    return 0;
  constexpr auto max = std::numeric_limits<uint64_t>::max();
  return ttl < max - now_ms ? now_ms + ttl : max;
}

lru_cache::time_point to_lru_time(uint64_t ms) noexcept {
  using std::chrono::milliseconds;
  // The steady clock counts nanoseconds in 63 bits: enough for Unix-epoch
  // milliseconds until the year 2262. Saturate beyond that.
  constexpr auto limit =
      static_cast<uint64_t>(std::chrono::duration_cast<milliseconds>(
                                lru_cache::time_point::duration::max())
                                .count());
  if (ms >= limit)
    return lru_cache::never;
  return lru_cache::time_point{} + milliseconds{static_cast<int64_t>(ms)};
}

lru_cache::time_point to_lru_expiry(uint64_t expiry_ms) noexcept {
  return expiry_ms == 0 ? lru_cache::never : to_lru_time(expiry_ms);
}

std::vector<uint8_t> encode_cache_record(uint64_t expiry_ms,
                                         const std::vector<uint8_t>& value) {
  std::vector<uint8_t> result(cache_record_header + value.size());
  write_expiry(result.data(), expiry_ms);
  std::copy(value.begin(), value.end(), result.begin() + cache_record_header);
  return result;
}

uint64_t cache_record_expiry(const std::vector<uint8_t>& record) noexcept {
  if (record.size() < cache_record_header)
    return 0;
  return read_expiry(record.data());
}

std::optional<cache_record> decode_cache_record(std::vector<uint8_t> bytes) {
  if (bytes.size() < cache_record_header)
    return std::nullopt;
  cache_record result;
  result.expiry_ms = cache_record_expiry(bytes);
  bytes.erase(bytes.begin(), bytes.begin() + cache_record_header);
  result.value = std::move(bytes);
  return result;
}

void write_buffer::put(std::string key, std::vector<uint8_t> record,
                       uint64_t expiry_ms) {
  auto i = entries_.find(key);
  if (i != entries_.end()) {
    bytes_ = bytes_ - i->second.record.size() + record.size();
    i->second.record = std::move(record);
    i->second.expiry_ms = expiry_ms;
    return;
  }
  auto added = key.size() + record.size();
  entries_.emplace(std::move(key), pending{std::move(record), expiry_ms});
  bytes_ += added;
}

bool write_buffer::erase(const std::string& key) {
  auto i = entries_.find(key);
  if (i == entries_.end())
    return false;
  bytes_ -= i->first.size() + i->second.record.size();
  entries_.erase(i);
  return true;
}

const std::vector<uint8_t>* write_buffer::find(const std::string& key) const {
  auto i = entries_.find(key);
  return i != entries_.end() ? &i->second.record : nullptr;
}

std::vector<lmdb_entry> write_buffer::take() {
  std::vector<lmdb_entry> result;
  result.reserve(entries_.size());
  while (!entries_.empty()) {
    auto node = entries_.extract(entries_.begin());
    result.push_back(lmdb_entry{std::move(node.key()),
                                std::move(node.mapped().record),
                                node.mapped().expiry_ms});
  }
  bytes_ = 0;
  return result;
}

void write_buffer::clear() noexcept {
  entries_.clear();
  bytes_ = 0;
}

} // namespace dine
