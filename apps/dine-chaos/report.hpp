#pragma once

// The output of dine-chaos: the timeline (steps, node events, client
// connection events and one line per second of load), the summary line or
// JSON object, and the verdict of every `expect`.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics.hpp"
#include "scenario.hpp"

namespace dine::chaos {

/// One line of the timeline; time in nanoseconds since the load started.
struct timeline_event {
  int64_t at_ns = 0;
  std::string text;
};

/// The verdict of one `expect` line.
struct expect_result {
  const expectation* expect = nullptr;
  std::optional<double> value; ///< Nothing when undefined.
  std::string why;             ///< Why the value is undefined.
  bool pass = false;
};

/// Evaluates every expectation of `sc`.
std::vector<expect_result> evaluate(const scenario& sc, const run_facts& f);

/// Formats nanoseconds since the start as "+1.234s".
std::string format_time(int64_t ns);

/// Prints the merged timeline: `events`, client connection events and
/// per-second load lines.
void print_timeline(std::ostream& os, std::vector<timeline_event> events,
                    const load_result& load);

/// Returns the one-line summary.
std::string summary_line(const run_facts& f);

/// Prints one line per expectation ("PASS"/"FAIL") and returns whether
/// all passed.
bool print_expects(std::ostream& os, const std::vector<expect_result>& rs);

/// Returns the summary as one JSON object (with expectations and steps).
nlohmann::json summary_json(const run_facts& f,
                            const std::vector<expect_result>& rs,
                            const std::vector<timeline_event>& events,
                            bool passed);

} // namespace dine::chaos
