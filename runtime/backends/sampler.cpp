#include "runtime/backends/sampler.hpp"

#include <algorithm>
#include <cmath>

namespace dine {

int32_t argmax(const float* x, int32_t n) {
  int32_t best = 0;
  for (int32_t i = 1; i < n; ++i)
    if (x[i] > x[best])
      best = i;
  return best;
}

int32_t sampler::sample(float* logits, int32_t n) {
  if (greedy() || n <= 1)
    return argmax(logits, n);
  float mx = logits[argmax(logits, n)];
  double sum = 0;
  for (int32_t i = 0; i < n; ++i) {
    logits[i] = std::exp((logits[i] - mx) / temperature_);
    sum += logits[i];
  }
  auto inv = static_cast<float>(1.0 / sum);
  for (int32_t i = 0; i < n; ++i)
    logits[i] *= inv;
  float r = rng_.uniform();
  if (top_p_ >= 1.0f) {
    float cdf = 0;
    for (int32_t i = 0; i < n; ++i) {
      cdf += logits[i];
      if (r < cdf)
        return i;
    }
    return n - 1;
  }
  // Nucleus: tokens below (1 - top_p) / (n - 1) cannot be in it (as in
  // llama2.c), which keeps the sort short.
  float cutoff = (1.0f - top_p_) / static_cast<float>(n - 1);
  cand_.clear();
  for (int32_t i = 0; i < n; ++i)
    if (logits[i] >= cutoff)
      cand_.emplace_back(logits[i], i);
  std::sort(cand_.begin(), cand_.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  float cum = 0;
  size_t last = cand_.size() - 1;
  for (size_t i = 0; i < cand_.size(); ++i) {
    cum += cand_[i].first;
    if (cum > top_p_) {
      last = i;
      break;
    }
  }
  float target = r * cum;
  float cdf = 0;
  for (size_t i = 0; i <= last; ++i) {
    cdf += cand_[i].first;
    if (target < cdf)
      return cand_[i].second;
  }
  return cand_[last].second;
}

} // namespace dine
