#include "runtime/balance_hash.hpp"

#include <algorithm>

namespace dine {

consistent_hash::consistent_hash(size_t virtual_nodes) : ring_(virtual_nodes) {
  // nop
}

const char* consistent_hash::name() const noexcept {
  return "consistent_hash";
}

bool consistent_hash::uses_key() const noexcept {
  return true;
}

void consistent_hash::sync(const std::vector<worker_view>& pool) {
  auto n = pool.size();
  bool same = ids_.size() == n;
  for (size_t i = 0; same && i < n; ++i)
    same = ids_[i] == pool[i].id;
  if (same)
    return;
  ids_.resize(n);
  index_.clear();
  index_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    ids_[i] = pool[i].id;
    index_.emplace_back(pool[i].id, i);
  }
  std::sort(index_.begin(), index_.end());
  // Update the ring incrementally: members that stay keep their points.
  auto has_id = [this](uint64_t id) {
    auto i = std::lower_bound(index_.begin(), index_.end(),
                              std::make_pair(id, size_t{0}));
    return i != index_.end() && i->first == id;
  };
  auto old_members = ring_.members();
  for (auto id : old_members)
    if (!has_id(id))
      ring_.remove(id);
  for (auto& entry : index_)
    ring_.add(entry.first); // no-op for members already on the ring
}

size_t consistent_hash::do_pick(const std::vector<worker_view>& pool,
                                uint64_t key_hash) {
  sync(pool);
  auto result = none;
  ring_.lookup_if(key_hash, [&](uint64_t id) {
    auto i = std::lower_bound(index_.begin(), index_.end(),
                              std::make_pair(id, size_t{0}));
    for (; i != index_.end() && i->first == id; ++i)
      if (pool[i->second].has_slot()) {
        result = i->second;
        return true;
      }
    return false;
  });
  return result;
}

const char* modulo_hash::name() const noexcept {
  return "modulo_hash";
}

bool modulo_hash::uses_key() const noexcept {
  return true;
}

size_t modulo_hash::do_pick(const std::vector<worker_view>& pool,
                            uint64_t key_hash) {
  auto n = pool.size();
  if (n == 0)
    return none;
  auto start = static_cast<size_t>(key_hash % n);
  for (size_t i = 0; i < n; ++i) {
    auto idx = (start + i) % n;
    if (pool[idx].has_slot())
      return idx;
  }
  return none;
}

} // namespace dine
