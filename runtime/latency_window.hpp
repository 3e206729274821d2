#pragma once

// Per-model throughput and latency over a recent window, for the `stats`
// op and the dashboard (docs/protocol.md, "Admin ops"; docs/dashboard.md).
// Time is cut into buckets of `bucket` width; the window keeps the last
// `buckets` of them per model. Each bucket counts the final replies that
// ended in it (ok and errors) and keeps a log-linear histogram of their
// latencies (8 sub-bins per power of two: a percentile is exact to about
// 6 %). Callers pass the time in (the coordinator its clock, tests theirs).
// Bounded: at most `max_models` models are tracked; replies for further
// names count under `other_model` (a client chooses model names).

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dine {

class latency_window {
public:
  using clock = std::chrono::steady_clock;

  /// Sub-bins per power of two of the latency histogram.
  static constexpr size_t sub_bins = 8;

  /// Histogram bins: latencies below 2^34 us (about 4.7 h); longer ones
  /// count in the last bin.
  static constexpr size_t bins = 32 * sub_bins;

  /// Models beyond `max_models` are counted under this name.
  static constexpr const char* other_model = "(other)";

  /// One model's summary and series, oldest bucket first.
  struct model_view {
    std::string model;
    uint64_t ok = 0;     ///< Final ok replies since start.
    uint64_t errors = 0; ///< Final error replies since start.
    double rps = 0;      ///< Replies per second over the last `summary`.
    uint64_t p50_us = 0; ///< Over the last `summary` (0: no replies).
    uint64_t p99_us = 0;
    /// Complete buckets of the window, oldest first (the current, partial
    /// one is left out): replies, errors among them, p50 and p99.
    std::vector<uint64_t> count;
    std::vector<uint64_t> error_count;
    std::vector<uint64_t> p50;
    std::vector<uint64_t> p99;
  };

  /// `buckets` of `bucket` width each; `summary` buckets make `rps`, `p50`
  /// and `p99` of a view.
  explicit latency_window(
      std::chrono::milliseconds bucket = std::chrono::milliseconds{1000},
      size_t buckets = 180, size_t summary = 10, size_t max_models = 64);

  /// Records a final reply of `model` that took `latency_us`, at `now`.
  void record(const std::string& model, uint64_t latency_us, bool ok,
              clock::time_point now);

  /// Returns every tracked model's view as of `now`, by name.
  std::vector<model_view> view(clock::time_point now) const;

  /// Width of a bucket.
  std::chrono::milliseconds bucket_width() const noexcept { return width_; }

  /// Buckets that make a view's `rps`, `p50_us` and `p99_us`.
  size_t summary_length() const noexcept { return summary_; }

  /// Buckets a view's series holds.
  size_t series_length() const noexcept { return nbuckets_ - 1; }

  /// Returns the histogram bin of `us` and the value that bin reports.
  static size_t bin_of(uint64_t us) noexcept;
  static uint64_t value_of(size_t bin) noexcept;

private:
  struct bucket_data {
    int64_t index = -1; ///< Bucket number since the epoch; -1: unused.
    uint64_t count = 0;
    uint64_t errors = 0;
    std::array<uint32_t, bins> hist{};
  };

  struct model_data {
    uint64_t ok = 0;
    uint64_t errors = 0;
    std::vector<bucket_data> ring;
  };

  int64_t index_of(clock::time_point t) const;

  /// Returns the p-th fraction (0..1) of `hist` holding `n` values.
  static uint64_t percentile(const std::array<uint32_t, bins>& hist, uint64_t n,
                             double p);

  std::chrono::milliseconds width_;
  size_t nbuckets_;
  size_t summary_;
  size_t max_models_;
  std::map<std::string, model_data> models_;
};

} // namespace dine
