#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace dine {

/// Decides when a batcher flushes: at `max_batch_size` queued requests, or
/// once the oldest has waited `max_delay`, and only while a worker has a
/// free slot. With `max_delay` 0, a batch leaves as soon as a slot is free,
/// so batches grow exactly while every worker is busy (adaptive batching).
class batch_policy {
public:
  using duration = std::chrono::steady_clock::duration;

  batch_policy(uint32_t max_batch_size, std::chrono::microseconds max_delay)
      : max_batch_size_(max_batch_size == 0 ? 1 : max_batch_size),
        max_delay_(max_delay) {
    // nop
  }

  /// Returns how many requests to take into a batch now; 0 means wait.
  size_t take(size_t queued, duration oldest_wait, bool slot_free) const {
    if (queued == 0 || !slot_free)
      return 0;
    if (queued >= max_batch_size_)
      return max_batch_size_;
    if (oldest_wait >= max_delay_)
      return queued;
    return 0;
  }

  /// Returns how long until the oldest request's delay runs out.
  duration remaining(duration oldest_wait) const {
    return oldest_wait >= max_delay_ ? duration::zero()
                                     : duration{max_delay_} - oldest_wait;
  }

  uint32_t max_batch_size() const noexcept { return max_batch_size_; }

  std::chrono::microseconds max_delay() const noexcept { return max_delay_; }

private:
  uint32_t max_batch_size_;
  std::chrono::microseconds max_delay_;
};

} // namespace dine
