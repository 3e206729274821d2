#pragma once

#include <algorithm>
#include <cstdint>

namespace dine {

/// Bounds retries so that a failing fleet is not hammered (like Finagle's
/// retry budget): every first attempt deposits `ratio` of a token, every
/// retry withdraws one, and `refill` (called once a second) tops the
/// tokens up to a floor of `min_tokens`. With ratio 0.2 and a floor of 32,
/// retries stay within 20 % of the traffic plus 32 per second — enough to
/// re-dispatch a whole lost batch at once.
class retry_budget {
public:
  explicit retry_budget(double ratio = 0.2, double min_tokens = 32,
                        double max_tokens = 1000)
      : ratio_(ratio), min_(min_tokens), max_(max_tokens), tokens_(min_tokens) {
    // nop
  }

  /// A request was sent for the first time.
  void deposit(uint64_t n = 1) {
    tokens_ = std::min(max_, tokens_ + ratio_ * static_cast<double>(n));
  }

  /// Returns whether a retry may be sent now (and withdraws its token).
  bool try_withdraw() {
    if (tokens_ < 1.0)
      return false;
    tokens_ -= 1.0;
    return true;
  }

  /// Returns the tokens available now.
  double tokens() const noexcept { return tokens_; }

  /// Tops the tokens up to the floor; call once a second.
  void refill() { tokens_ = std::max(tokens_, min_); }

private:
  double ratio_;
  double min_;
  double max_;
  double tokens_;
};

} // namespace dine
