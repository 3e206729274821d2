#include "runtime/ewma.hpp"

namespace dine {

ewma::ewma(double alpha) noexcept
    : alpha_(valid_alpha(alpha) ? alpha : default_alpha) {
  // nop
}

double ewma::update(double sample) noexcept {
  if (count_++ == 0)
    value_ = sample;
  else
    value_ += alpha_ * (sample - value_);
  return value_;
}

} // namespace dine
