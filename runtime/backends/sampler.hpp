#pragma once

#include <cstdint>
#include <vector>

namespace dine {

/// splitmix64: a small deterministic PRNG (the same seed gives the same
/// stream on every platform).
class splitmix64 {
public:
  explicit splitmix64(uint64_t seed = 0) : state_(seed) {
    // nop
  }

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  /// Returns a float in [0, 1).
  float uniform() { return static_cast<float>(next() >> 40) * 0x1p-24f; }

private:
  uint64_t state_;
};

/// Picks the next token from logits: argmax at temperature 0, otherwise
/// softmax(logits / temperature) restricted to the smallest set of tokens
/// whose probability reaches `top_p` (nucleus), drawn with the sequence's
/// own PRNG, so a seed reproduces the text.
class sampler {
public:
  sampler(float temperature, float top_p, uint64_t seed)
      : temperature_(temperature), top_p_(top_p), rng_(seed) {
    // nop
  }

  /// Samples from `logits` (`n` values; modified in place).
  int32_t sample(float* logits, int32_t n);

  bool greedy() const { return temperature_ == 0.0f; }

private:
  float temperature_;
  float top_p_;
  splitmix64 rng_;
  std::vector<std::pair<float, int32_t>> cand_; // scratch
};

/// Returns the index of the largest of `n` values (the first on ties).
int32_t argmax(const float* x, int32_t n);

} // namespace dine
