#include "runtime/balance_weighted.hpp"

namespace dine {

const char* weighted::name() const noexcept {
  return "weighted";
}

size_t weighted::do_pick(const std::vector<worker_view>& pool, uint64_t) {
  auto n = pool.size();
  bool same = ids_.size() == n;
  for (size_t i = 0; same && i < n; ++i)
    same = ids_[i] == pool[i].id;
  if (!same) {
    ids_.resize(n);
    for (size_t i = 0; i < n; ++i)
      ids_[i] = pool[i].id;
    scores_.assign(n, 0);
  }
  auto best = none;
  int64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!pool[i].has_slot())
      continue;
    auto w = static_cast<int64_t>(pool[i].effective_weight());
    scores_[i] += w;
    total += w;
    if (best == none || scores_[i] > scores_[best])
      best = i;
  }
  if (best != none)
    scores_[best] -= total;
  return best;
}

} // namespace dine
