#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dine::bench {

/// A log-linear latency histogram over nanoseconds: exact below 256 ns,
/// then 128 buckets per power of two (relative error below 0.8 %). Fixed
/// size, no allocation per sample, so runs of any length fit.
class histogram {
public:
  histogram();

  /// Adds one sample.
  void record(uint64_t ns) noexcept {
    ++counts_[index(ns)];
    ++count_;
    sum_ += ns;
    if (ns > max_)
      max_ = ns;
  }

  /// Returns the value at quantile `q` (0..1): the midpoint of the bucket
  /// that holds the sample of rank ceil(q * count), or 0 if empty.
  uint64_t quantile(double q) const noexcept;

  uint64_t count() const noexcept { return count_; }
  uint64_t max() const noexcept { return max_; }
  double mean() const noexcept {
    return count_ == 0
               ? 0.0
               : static_cast<double>(sum_) / static_cast<double>(count_);
  }

  /// Drops all samples.
  void clear() noexcept;

  /// Adds the samples of `other`.
  void merge(const histogram& other) noexcept;

private:
  static constexpr int sub_bits = 8;
  static constexpr int max_shift = 40; // larger values are clamped

  static size_t index(uint64_t v) noexcept {
    if (v < (uint64_t{1} << sub_bits))
      return static_cast<size_t>(v);
    int shift = (63 - __builtin_clzll(v)) - (sub_bits - 1);
    if (shift > max_shift) {
      shift = max_shift;
      v = (uint64_t{1} << (shift + sub_bits)) - 1;
    }
    auto top = v >> shift; // in [128, 256)
    return (size_t{1} << sub_bits) +
           static_cast<size_t>(shift - 1) * (size_t{1} << (sub_bits - 1)) +
           static_cast<size_t>(top - (uint64_t{1} << (sub_bits - 1)));
  }

  /// Returns the midpoint of bucket `i`.
  static uint64_t value_of(size_t i) noexcept;

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

} // namespace dine::bench
