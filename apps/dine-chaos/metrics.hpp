#pragma once

// Turns the load client's records into the numbers a scenario's `expect`
// lines check (docs/chaos.md, "Metrics"): counts by outcome and error code,
// latencies, per-worker shares, and detection / recovery times relative to
// the first disruptive step.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "load_client.hpp"
#include "scenario.hpp"

namespace dine::chaos {

/// Counts over the requests sent in a time window.
struct counts {
  uint64_t sent = 0; ///< Written to a connection (excludes `unsent`).
  uint64_t ok = 0;
  uint64_t errors = 0;
  uint64_t lost = 0;
  uint64_t disconnected = 0;
  uint64_t duplicated = 0; ///< Ids with more than one reply.
  uint64_t unsent = 0;
  uint64_t wrong_outputs = 0; ///< Ok replies with outputs not f(inputs).
  std::map<std::string, uint64_t> by_code;   ///< Error replies by code.
  std::map<std::string, uint64_t> worker_ok; ///< Ok replies by worker.
  std::vector<int64_t> ok_latency;           ///< Nanoseconds, unsorted.
  std::vector<int64_t> error_latency;        ///< Nanoseconds, unsorted.
};

/// Counts the requests sent in `[from_ns, to_ns)` (`to_ns < 0`: no end).
counts count(const load_result& res, int64_t from_ns, int64_t to_ns);

/// Detection and recovery after a fault (see docs/chaos.md).
struct fault_timing {
  int64_t fault_ns = -1;     ///< -1 = no disruptive step ran.
  int64_t detection_ns = -1; ///< -1 = undefined (no fault).
  int64_t recovery_ns = -1;  ///< -1 = undefined or never recovered.
  bool recovered = false;
  uint64_t disturbed = 0; ///< Disturbed requests at or after the fault.
};

/// Computes detection and recovery for a fault at `fault_ns` (-1 = none);
/// a reply slower than `late_ns` counts as disturbed.
fault_timing timing(const load_result& res, int64_t fault_ns, int64_t late_ns);

/// Returns the `q`-quantile (0..1) of `xs` in milliseconds; 0 if empty.
double quantile_ms(std::vector<int64_t>& xs, double q);

/// What a finished run knows besides the load records.
struct run_facts {
  const load_result* load = nullptr;
  fault_timing fault;
  std::map<std::string, int> exits; ///< Node -> exit status, -1 running.
  int steps_failed = 0;
  /// `wait-workers ... as=LABEL` -> ms from the step's time until the count
  /// was reached (missing: the step failed).
  std::map<std::string, double> settle_ms;
};

/// Returns the value of `metric` over `window` (all requests if none).
/// Returns nothing and sets `why` when the value is undefined.
std::optional<double> metric_value(const std::string& metric,
                                   const std::optional<time_window>& window,
                                   const run_facts& facts, std::string& why);

/// Checks a metric name at parse time; `windowed` = it has an @window.
bool valid_metric(const std::string& metric, bool windowed, const scenario& sc,
                  std::string& why);

} // namespace dine::chaos
