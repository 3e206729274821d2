#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace dine {

/// What a balancing strategy sees of one worker of a pool.
struct worker_view {
  uint32_t outstanding = 0; ///< Batches in flight.
  uint32_t capacity = 1;    ///< Batches it may have in flight.
  bool healthy = true;

  bool has_slot() const noexcept { return healthy && outstanding < capacity; }
};

/// Picks the worker of a pool that gets the next batch.
class balancer {
public:
  /// Returned when no worker can take a batch now.
  static constexpr size_t none = static_cast<size_t>(-1);

  virtual ~balancer();

  /// Returns the index of the chosen worker, or `none`.
  virtual size_t pick(const std::vector<worker_view>& pool) = 0;
};

/// Takes healthy workers with a free slot in turn.
class round_robin : public balancer {
public:
  size_t pick(const std::vector<worker_view>& pool) override;

private:
  size_t next_ = 0;
};

/// Makes the strategy named `name` (`round_robin`).
caf::expected<std::unique_ptr<balancer>> make_balancer(const std::string& name);

} // namespace dine
