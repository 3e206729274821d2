#include "histogram.hpp"

#include <algorithm>
#include <cmath>

namespace dine::bench {

histogram::histogram()
    : counts_((size_t{1} << sub_bits) +
              static_cast<size_t>(max_shift) * (size_t{1} << (sub_bits - 1))) {
  // nop
}

uint64_t histogram::quantile(double q) const noexcept {
  if (count_ == 0)
    return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  if (rank == count_)
    return max_;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank)
      return std::min(value_of(i), max_);
  }
  return max_;
}

uint64_t histogram::value_of(size_t i) noexcept {
  constexpr size_t linear = size_t{1} << sub_bits;
  constexpr size_t per_shift = size_t{1} << (sub_bits - 1);
  if (i < linear)
    return i;
  auto shift = static_cast<int>((i - linear) / per_shift) + 1;
  auto top = (i - linear) % per_shift + per_shift;
  auto lo = static_cast<uint64_t>(top) << shift;
  return lo + ((uint64_t{1} << shift) >> 1);
}

void histogram::clear() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  sum_ = 0;
  max_ = 0;
}

void histogram::merge(const histogram& other) noexcept {
  for (size_t i = 0; i < counts_.size() && i < other.counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

} // namespace dine::bench
