#pragma once

#include "runtime/balancer.hpp"

namespace dine {

/// Smooth weighted round-robin (as in nginx) over the eligible workers by
/// `worker_view::effective_weight()`: each pick adds every eligible
/// worker's weight to its running score, takes the highest score (the
/// first on a tie) and subtracts the sum of the weights from it. Over any
/// run of picks each worker gets its share of the weight, interleaved
/// rather than in bursts; deterministic. Scores reset when the pool's
/// members (their ids in order) change.
class weighted : public balancer {
public:
  const char* name() const noexcept override;

protected:
  size_t do_pick(const std::vector<worker_view>& pool,
                 uint64_t key_hash) override;

private:
  std::vector<uint64_t> ids_;
  std::vector<int64_t> scores_;
};

} // namespace dine
