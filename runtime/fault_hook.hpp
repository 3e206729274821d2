#pragma once

#include <cstdint>
#include <random>

#include "messages/fault.hpp"

namespace dine {

/// Decides, batch by batch, whether a configured fault fires: with
/// probability `rate`, at most `count` times (0 = unlimited).
class fault_hook {
public:
  explicit fault_hook(uint64_t seed = 0x5eed) : rng_(seed) {
    // nop
  }

  /// Replaces the spec; resets the count of fired faults.
  void set(const fault_spec& spec) {
    spec_ = spec;
    fired_ = 0;
  }

  const fault_spec& spec() const noexcept { return spec_; }

  /// Returns the fault to inject into the next batch (`off` for none).
  fault_kind next() {
    if (spec_.kind == fault_kind::off ||
        spec_.kind == fault_kind::crash_on_start)
      return fault_kind::off;
    if (spec_.count > 0 && fired_ >= spec_.count)
      return fault_kind::off;
    if (spec_.rate < 1.0) {
      std::uniform_real_distribution<double> coin{0.0, 1.0};
      if (coin(rng_) >= spec_.rate)
        return fault_kind::off;
    }
    ++fired_;
    return spec_.kind;
  }

  /// Returns how many times the fault fired since the last `set`.
  uint32_t fired() const noexcept { return fired_; }

private:
  fault_spec spec_;
  uint32_t fired_ = 0;
  std::mt19937_64 rng_;
};

} // namespace dine
