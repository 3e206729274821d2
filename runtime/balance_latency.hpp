#pragma once

#include <unordered_map>

#include "runtime/balancer.hpp"
#include "runtime/ewma.hpp"

namespace dine {

/// Takes the eligible worker with the lowest moving average of the
/// latencies reported through `observe` (keyed by `worker_view::id`). A
/// worker without an observation yet counts as best, so new workers get
/// probed. Ties go round-robin. A failure is recorded as `failure_penalty`
/// times the larger of its latency and the slowest average in the pool, so
/// a worker that fails fast never looks fast.
class least_latency : public balancer {
public:
  /// Averages with weight `alpha` per sample (see `ewma`).
  explicit least_latency(double alpha = ewma::default_alpha,
                         double failure_penalty = 4.0);

  const char* name() const noexcept override;

  bool uses_feedback() const noexcept override;

  void observe(uint64_t id, duration latency, bool ok) override;

  void forget(uint64_t id) override;

  /// Returns the average latency of worker `id` in microseconds, or a
  /// negative value if it has no observation.
  double latency_us(uint64_t id) const;

protected:
  size_t do_pick(const std::vector<worker_view>& pool,
                 uint64_t key_hash) override;

private:
  double alpha_;
  double failure_penalty_;
  size_t next_ = 0;
  std::unordered_map<uint64_t, ewma> stats_;
};

} // namespace dine
