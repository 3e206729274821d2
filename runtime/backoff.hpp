#pragma once

#include <algorithm>
#include <chrono>

namespace dine {

/// The delays between attempts (reconnects, restarts): `first` (20 ms
/// unless given), then doubling after each failed attempt, capped at `max`;
/// `reset` after a success starts over.
class backoff {
public:
  using duration = std::chrono::milliseconds;

  /// The default first delay.
  static constexpr duration initial{20};

  explicit backoff(duration max = duration{2000}, duration first = initial)
      : max_(max), first_(first), current_(first) {
    // nop
  }

  /// Returns the delay before the next attempt and doubles it for the one
  /// after (capped at `max`).
  duration next() noexcept {
    auto result = current_;
    current_ = std::min(current_ * 2, max_);
    return result;
  }

  /// Starts over at the first delay (after a success).
  void reset() noexcept { current_ = first_; }

private:
  duration max_;
  duration first_;
  duration current_;
};

} // namespace dine
