#pragma once

#include <random>

#include "runtime/balancer.hpp"

namespace dine {

/// Takes the eligible worker with the fewest batches outstanding. Ties go
/// round-robin, so equally loaded workers share the traffic.
class least_connections : public balancer {
public:
  const char* name() const noexcept override;

protected:
  size_t do_pick(const std::vector<worker_view>& pool,
                 uint64_t key_hash) override;

private:
  size_t next_ = 0;
};

/// Samples two distinct eligible workers uniformly at random and takes the
/// one with fewer batches outstanding (the first sampled on a tie): nearly
/// as good as `least_connections` without scanning for the minimum, and
/// without herding when views are stale. With one eligible worker, takes
/// it.
class power_of_two_choices : public balancer {
public:
  /// Seeds the generator with `seed` (deterministic for tests).
  explicit power_of_two_choices(uint64_t seed);

  /// Uses `gen` as the generator.
  explicit power_of_two_choices(std::mt19937_64 gen);

  const char* name() const noexcept override;

protected:
  size_t do_pick(const std::vector<worker_view>& pool,
                 uint64_t key_hash) override;

private:
  std::mt19937_64 gen_;
};

} // namespace dine
