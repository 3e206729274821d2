#include "runtime/memory_budget.hpp"

#include <algorithm>

namespace dine {

std::vector<uint64_t> memory_budget::update(uint64_t id, size_t bytes) {
  std::vector<uint64_t> victims;
  std::lock_guard<std::mutex> guard{mtx_};
  auto& h = holders_[id];
  total_ = total_ - h.bytes + bytes;
  h.bytes = bytes;
  if (limit_ == 0 || total_ <= limit_)
    return victims;
  // Everything held counts, shed holders' requests in flight too: they
  // are still in memory. Only live holders can free bytes now.
  std::vector<std::pair<size_t, uint64_t>> live;
  live.reserve(holders_.size());
  for (auto& [k, v] : holders_)
    if (!v.shed && v.bytes > 0 && v.bytes >= min_victim_)
      live.emplace_back(v.bytes, k);
  std::sort(live.begin(), live.end(), [](auto& a, auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  auto after = total_;
  for (auto& [n, k] : live) {
    if (after <= limit_)
      break;
    holders_[k].shed = true;
    after -= n;
    ++shed_count_;
    victims.push_back(k);
  }
  return victims;
}

void memory_budget::remove(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = holders_.find(id);
  if (i == holders_.end())
    return;
  total_ -= i->second.bytes;
  holders_.erase(i);
}

size_t memory_budget::total() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return total_;
}

uint64_t memory_budget::shed_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return shed_count_;
}

} // namespace dine
