#pragma once

// Fault hooks: injected failures of a model session, for fault-injection
// tests (docs/operations.md, "Fault hooks").

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace dine {

/// The largest `slow_ms` a fault hook may have (config and `fault` op).
constexpr uint32_t max_fault_slow_ms = 600000;

/// The kinds of injected fault.
enum class fault_kind : uint8_t {
  off,            ///< No fault.
  crash,          ///< The session fails while handling a batch.
  crash_on_start, ///< The session fails as soon as it starts.
  hang,           ///< The session never answers the batch.
  error,          ///< The batch fails with `worker_failed`.
  slow,           ///< The result is delayed by `slow_ms`.
};

/// Returns the name of `x` as used in configs and the `fault` op.
const char* to_string(fault_kind x);

/// Parses a fault kind name; returns false for unknown names.
bool from_string(const std::string& name, fault_kind& out);

/// A fault hook: what to inject, how often, how many times.
struct fault_spec {
  std::string model;
  fault_kind kind = fault_kind::off;
  double rate = 1.0;  ///< Probability per batch, 0..1.
  uint32_t count = 0; ///< Batches to affect at most; 0 = unlimited.
  uint32_t slow_ms = 0;
  std::string worker; ///< Only this worker; empty = every worker.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fault_spec& x) {
  return f(caf::meta::type_name("fault_spec"), x.model, x.kind, x.rate, x.count,
           x.slow_ms, x.worker);
}

} // namespace dine
