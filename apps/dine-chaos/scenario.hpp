#pragma once

// The scenario language of dine-chaos (docs/chaos.md): a line-based script
// of node declarations, one load, timed steps and expectations. This header
// holds the parsed form; `parse_scenario` builds it and reports the first
// error with its line number.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dine::chaos {

/// Global settings (`set KEY=VALUE`). Durations in milliseconds.
struct settings {
  int64_t grace_ms = -1; ///< After the load; -1 = deadline + 1 s.
  int64_t quiet_ms = -1; ///< Read after the last reply; -1 = deadline + 250.
  int64_t ready_timeout_ms = 20000; ///< Wait for a node's ready file.
  int64_t late_ms = 250;            ///< A reply slower than this is disturbed.
  int64_t reconnect_ms = 100;       ///< Pause before a client reconnects.
  int64_t step_timeout_ms = 5000;   ///< Admin requests of `fault` and `op`.
};

/// A `node NAME FLAGS...` line.
struct node_decl {
  std::string name;
  std::vector<std::string> flags; ///< Unexpanded: may hold placeholders.
  bool netns = false;             ///< Declared with `netns NAME` before.
  std::string host;               ///< `host=H`: runs in host H's namespace.
  bool later = false;             ///< `start=later`: started by a step.
  bool coordinator = false;       ///< Its role serves clients.
  int line = 0; ///< Also identifies its group: one line, one group.
};

/// The `load` line.
struct load_decl {
  bool present = false;
  std::string model = "sleep";
  size_t connections = 1;
  size_t depth = 0; ///< 0 = default: 1 closed loop, 4096 open loop.
  double rate = 0;  ///< Requests per second; 0 = closed loop.
  int64_t duration_ms = 0;
  uint32_t deadline_ms = 0; ///< 0 = the node's default.
  std::string target;       ///< A coordinator node.
  bool cache = false;
  int line = 0;
};

/// What an `at` step does.
enum class step_kind {
  signal,
  restart,
  fault,
  link_down,
  link_up,
  wait_ready,
  wait_exit,
  op,
  start,        ///< Starts nodes that are not running.
  wait_workers, ///< Polls `health` until the worker count is reached.
  run,          ///< Runs a command to completion.
};

/// An `at TIME ACTION` line.
struct step {
  int64_t at_ms = 0;
  step_kind kind = step_kind::signal;
  std::string node; ///< Subject node (also the target of `fault`/`op`).
  std::vector<std::string> nodes; ///< All subjects (a group); front() = node.
  int sig = 0;                    ///< For `signal`.
  std::string op;                 ///< For `op`: health, models or stats.
  int64_t timeout_ms = 0;         ///< For `wait-*` and `run`.
  size_t count = 0;               ///< For `wait-workers`: the worker count.
  std::string label;              ///< For `wait-workers`: `as=LABEL`.
  std::vector<std::string> argv;  ///< For `run`: unexpanded words.
  /// For `fault`: the request's `inputs` as key/value text pairs.
  std::vector<std::pair<std::string, std::string>> params;
  std::string text; ///< The action as written (for the timeline).
  int line = 0;

  /// Returns whether this step injects a fault (the reference point of
  /// detection and recovery): a signal other than CONT, `link down`, or a
  /// `fault` whose kind is not `off`.
  bool disruptive() const;
};

/// Comparison of an expectation.
enum class cmp_op { eq, ne, lt, le, gt, ge };

/// Returns the text of `x`, e.g. "<=".
const char* to_string(cmp_op x);

/// Returns whether `lhs x rhs` holds.
bool compare(double lhs, cmp_op x, double rhs);

/// Requests counted by a windowed metric: sent at `[from_ms, to_ms)`.
struct time_window {
  int64_t from_ms = 0;
  int64_t to_ms = -1; ///< -1 = until the end.
};

/// An `expect METRIC[@FROM..TO] OP NUMBER` line.
struct expectation {
  std::string metric;
  std::optional<time_window> window;
  cmp_op op = cmp_op::eq;
  double value = 0;
  std::string text; ///< As written, without the `expect`.
  int line = 0;
};

/// A whole scenario.
struct scenario {
  settings set;
  std::vector<node_decl> nodes;
  std::vector<std::string> hosts; ///< `host NAME` lines, in order.
  load_decl load;
  std::vector<step> steps; ///< Sorted by time (stable).
  std::vector<expectation> expects;

  /// Returns the node called `name`, or null.
  const node_decl* find(const std::string& name) const;

  /// Returns whether `name` is a `host` line's name.
  bool is_host(const std::string& name) const;
};

/// A syntax error: where and what.
struct parse_error {
  int line = 0;
  std::string message;
};

/// Parses `text`; on success returns nothing and fills `out`.
std::optional<parse_error> parse_scenario(const std::string& text,
                                          scenario& out);

} // namespace dine::chaos
