#include "runtime/balance_latency.hpp"

#include <algorithm>

namespace dine {

namespace {

/// Caps recorded samples (about 11 days) so repeated penalties stay finite.
constexpr double max_sample_us = 1e12;

} // namespace

least_latency::least_latency(double alpha, double failure_penalty)
    : alpha_(ewma::valid_alpha(alpha) ? alpha : ewma::default_alpha),
      failure_penalty_(failure_penalty >= 1.0 ? failure_penalty : 1.0) {
  // nop
}

const char* least_latency::name() const noexcept {
  return "least_latency";
}

bool least_latency::uses_feedback() const noexcept {
  return true;
}

void least_latency::observe(uint64_t id, duration latency, bool ok) {
  auto sample = std::chrono::duration<double, std::micro>{latency}.count();
  sample = std::max(sample, 0.0);
  if (!ok) {
    for (auto& kvp : stats_)
      sample = std::max(sample, kvp.second.value());
    sample *= failure_penalty_;
  }
  auto i = stats_.find(id);
  if (i == stats_.end())
    i = stats_.emplace(id, ewma{alpha_}).first;
  i->second.update(std::min(sample, max_sample_us));
}

void least_latency::forget(uint64_t id) {
  stats_.erase(id);
}

double least_latency::latency_us(uint64_t id) const {
  auto i = stats_.find(id);
  return i == stats_.end() ? -1.0 : i->second.value();
}

size_t least_latency::do_pick(const std::vector<worker_view>& pool, uint64_t) {
  auto n = pool.size();
  auto best = none;
  auto best_latency = 0.0;
  for (size_t i = 0; i < n; ++i) {
    auto idx = (next_ + i) % n;
    if (!pool[idx].has_slot())
      continue;
    auto latency = latency_us(pool[idx].id);
    if (best == none || latency < best_latency) {
      best = idx;
      best_latency = latency;
    }
  }
  if (best != none)
    next_ = best + 1;
  return best;
}

} // namespace dine
