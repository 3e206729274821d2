#include "runtime/key_batching.hpp"

#include <algorithm>

namespace dine {

std::vector<worker_view> affinity_views(const std::vector<worker_view>& pool) {
  auto out = pool;
  for (auto& v : out) {
    v.outstanding = 0;
    v.capacity = 1;
  }
  return out;
}

namespace {

/// Picks a worker for `key` as if worker `avoid` were down, unless it is
/// the only healthy one.
size_t pick_avoiding(balancer& strategy, const std::vector<worker_view>& views,
                     uint64_t key, uint64_t avoid) {
  auto others = views;
  bool any = false;
  for (auto& v : others) {
    if (v.id == avoid)
      v.healthy = false;
    else
      any = any || v.healthy;
  }
  return any ? strategy.pick(others, key) : strategy.pick(views, key);
}

} // namespace

key_batch_plan plan_key_batches(balancer& strategy,
                                const std::vector<worker_view>& pool,
                                const std::vector<uint64_t>& key_hashes,
                                size_t max_batch_size,
                                const std::vector<uint64_t>& avoid) {
  key_batch_plan plan;
  auto views = affinity_views(pool);
  // Requests per picked worker, in arrival order.
  std::vector<std::vector<size_t>> by_worker(pool.size());
  std::vector<size_t> order; // workers in first-picked order
  for (size_t i = 0; i < key_hashes.size(); ++i) {
    auto w = i < avoid.size() && avoid[i] != 0
                 ? pick_avoiding(strategy, views, key_hashes[i], avoid[i])
                 : strategy.pick(views, key_hashes[i]);
    if (w == balancer::none || w >= pool.size()) {
      plan.leftover.push_back(i);
      continue;
    }
    if (by_worker[w].empty())
      order.push_back(w);
    by_worker[w].push_back(i);
  }
  max_batch_size = std::max<size_t>(max_batch_size, 1);
  for (auto w : order) {
    auto& items = by_worker[w];
    auto& v = pool[w];
    size_t free_slots = v.healthy && v.outstanding < v.capacity
                            ? v.capacity - v.outstanding
                            : 0;
    size_t pos = 0;
    while (pos < items.size() && free_slots > 0) {
      auto n = std::min(max_batch_size, items.size() - pos);
      key_batch_plan::batch b;
      b.worker = w;
      b.items.assign(items.begin() + pos, items.begin() + pos + n);
      plan.batches.push_back(std::move(b));
      pos += n;
      --free_slots;
    }
    plan.leftover.insert(plan.leftover.end(), items.begin() + pos, items.end());
  }
  std::sort(plan.leftover.begin(), plan.leftover.end());
  return plan;
}

} // namespace dine
