#pragma once

#include <cstdint>

namespace dine {

/// An exponentially weighted moving average: each sample moves the value
/// by `alpha` of its distance to the sample. The first sample sets the
/// value directly, so there is no bias towards an initial zero.
class ewma {
public:
  /// Weight of a new sample unless told otherwise.
  static constexpr double default_alpha = 0.2;

  /// Makes an empty average; `alpha` outside (0, 1] falls back to
  /// `default_alpha` (validate user input with `valid_alpha`).
  explicit ewma(double alpha = default_alpha) noexcept;

  /// Returns whether `alpha` lies in (0, 1].
  static bool valid_alpha(double alpha) noexcept {
    return alpha > 0.0 && alpha <= 1.0;
  }

  /// Adds a sample and returns the new value.
  double update(double sample) noexcept;

  /// Returns the current value, 0 before the first sample.
  double value() const noexcept { return value_; }

  /// Returns whether no sample was added yet.
  bool empty() const noexcept { return count_ == 0; }

  /// Returns the number of samples added.
  uint64_t count() const noexcept { return count_; }

  /// Returns the weight of a new sample.
  double alpha() const noexcept { return alpha_; }

  /// Forgets all samples.
  void reset() noexcept {
    value_ = 0.0;
    count_ = 0;
  }

private:
  double alpha_;
  double value_ = 0.0;
  uint64_t count_ = 0;
};

} // namespace dine
