#pragma once

#include <algorithm>
#include <chrono>

namespace dine {

/// The delays between reconnect attempts: 20 ms first, then doubling after
/// each failed attempt, capped at `max`; `reset` after a success starts
/// over.
class backoff {
public:
  using duration = std::chrono::milliseconds;

  /// The first delay.
  static constexpr duration initial{20};

  explicit backoff(duration max = duration{2000}) : max_(max) {
    // nop
  }

  /// Returns the delay before the next attempt and doubles it for the one
  /// after (capped at `max`).
  duration next() noexcept {
    auto result = current_;
    current_ = std::min(current_ * 2, max_);
    return result;
  }

  /// Starts over at `initial` (after a success).
  void reset() noexcept { current_ = initial; }

private:
  duration max_;
  duration current_ = initial;
};

} // namespace dine
