#pragma once

#include <random>

#include "runtime/balancer.hpp"

namespace dine {

/// Takes an eligible worker uniformly at random (config name `random`).
class random_choice : public balancer {
public:
  /// Seeds the generator with `seed` (deterministic for tests).
  explicit random_choice(uint64_t seed);

  /// Uses `gen` as the generator.
  explicit random_choice(std::mt19937_64 gen);

  const char* name() const noexcept override;

protected:
  size_t do_pick(const std::vector<worker_view>& pool,
                 uint64_t key_hash) override;

private:
  std::mt19937_64 gen_;
};

} // namespace dine
