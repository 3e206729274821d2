#include "runtime/latency_window.hpp"

#include <algorithm>

namespace dine {

latency_window::latency_window(std::chrono::milliseconds bucket, size_t buckets,
                               size_t summary, size_t max_models)
    : width_(std::max(bucket, std::chrono::milliseconds{1})),
      nbuckets_(std::max<size_t>(buckets, 2)),
      summary_(std::clamp<size_t>(summary, 1, nbuckets_ - 1)),
      max_models_(std::max<size_t>(max_models, 1)) {
  // nothing else
}

size_t latency_window::bin_of(uint64_t us) noexcept {
  if (us < sub_bins)
    return static_cast<size_t>(us);
  // Highest set bit h >= 3: the bin is h's group plus the next 3 bits.
  size_t h = 63 - static_cast<size_t>(__builtin_clzll(us));
  size_t sub = static_cast<size_t>(us >> (h - 3)) & (sub_bins - 1);
  size_t b = (h - 2) * sub_bins + sub;
  return std::min(b, bins - 1);
}

uint64_t latency_window::value_of(size_t bin) noexcept {
  if (bin < sub_bins)
    return bin;
  size_t h = bin / sub_bins + 2;
  uint64_t sub = bin % sub_bins;
  uint64_t lo = (uint64_t{1} << h) + (sub << (h - 3));
  uint64_t width = uint64_t{1} << (h - 3);
  return lo + width / 2; // the middle of the bin
}

int64_t latency_window::index_of(clock::time_point t) const {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      t.time_since_epoch());
  return ms.count() / width_.count();
}

void latency_window::record(const std::string& model, uint64_t latency_us,
                            bool ok, clock::time_point now) {
  auto i = models_.find(model);
  if (i == models_.end()) {
    auto name =
        models_.size() + 1 < max_models_ ? model : std::string{other_model};
    i = models_.find(name);
    if (i == models_.end()) {
      i = models_.emplace(name, model_data{}).first;
      i->second.ring.resize(nbuckets_);
    }
  }
  auto& md = i->second;
  (ok ? md.ok : md.errors) += 1;
  auto idx = index_of(now);
  auto& b = md.ring[static_cast<size_t>(idx) % nbuckets_];
  if (b.index != idx) {
    b = bucket_data{};
    b.index = idx;
  }
  ++b.count;
  b.errors += ok ? 0 : 1;
  ++b.hist[bin_of(latency_us)];
}

uint64_t latency_window::percentile(const std::array<uint32_t, bins>& hist,
                                    uint64_t n, double p) {
  if (n == 0)
    return 0;
  // The smallest value with at least ceil(p * n) values at or below it.
  auto rank = static_cast<uint64_t>(p * static_cast<double>(n) + 0.999999);
  rank = std::clamp<uint64_t>(rank, 1, n);
  uint64_t seen = 0;
  for (size_t b = 0; b < bins; ++b) {
    seen += hist[b];
    if (seen >= rank)
      return value_of(b);
  }
  return value_of(bins - 1);
}

std::vector<latency_window::model_view>
latency_window::view(clock::time_point now) const {
  std::vector<model_view> out;
  out.reserve(models_.size());
  auto cur = index_of(now);
  auto len = nbuckets_ - 1;
  for (auto& [name, md] : models_) {
    model_view v;
    v.model = name;
    v.ok = md.ok;
    v.errors = md.errors;
    v.count.reserve(len);
    v.error_count.reserve(len);
    v.p50.reserve(len);
    v.p99.reserve(len);
    std::array<uint32_t, bins> sum{};
    uint64_t nsum = 0;
    for (size_t k = len; k >= 1; --k) {
      auto idx = cur - static_cast<int64_t>(k);
      const bucket_data* b = nullptr;
      if (idx >= 0) {
        auto& cand = md.ring[static_cast<size_t>(idx) % nbuckets_];
        if (cand.index == idx)
          b = &cand;
      }
      if (b == nullptr) {
        v.count.push_back(0);
        v.error_count.push_back(0);
        v.p50.push_back(0);
        v.p99.push_back(0);
        continue;
      }
      v.count.push_back(b->count);
      v.error_count.push_back(b->errors);
      v.p50.push_back(percentile(b->hist, b->count, 0.5));
      v.p99.push_back(percentile(b->hist, b->count, 0.99));
      if (k <= summary_) {
        nsum += b->count;
        for (size_t j = 0; j < bins; ++j)
          sum[j] += b->hist[j];
      }
    }
    auto secs = static_cast<double>(summary_ * width_.count()) / 1000.0;
    v.rps = static_cast<double>(nsum) / secs;
    v.p50_us = percentile(sum, nsum, 0.5);
    v.p99_us = percentile(sum, nsum, 0.99);
    out.push_back(std::move(v));
  }
  return out;
}

} // namespace dine
