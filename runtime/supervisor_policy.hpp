#pragma once

// The decisions of a supervisor after Erlang/OTP's `supervisor` module, as
// plain C++: no actors, and time is passed in by the caller. The supervisor
// actor (actors/supervisor.hpp) executes what this class decides.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace dine {

/// When a supervisor restarts a child (OTP's restart types).
enum class restart_type : uint8_t {
  /// Always restarted, whatever the reason of its exit.
  permanent,
  /// Restarted only after an abnormal exit.
  transient,
  /// Never restarted; removed from the child list once it exits or is
  /// stopped by a restart of its siblings.
  temporary,
};

/// Which children a supervisor restarts when one child must be restarted.
enum class restart_strategy : uint8_t {
  /// Only the child that exited.
  one_for_one,
  /// All children: stop the others in reverse start order, then start all
  /// in start order.
  one_for_all,
  /// The child that exited and every child started after it.
  rest_for_one,
};

/// Returns the OTP name of `x`, e.g. `"transient"`.
const char* to_string(restart_type x);

/// Returns the OTP name of `x`, e.g. `"rest_for_one"`.
const char* to_string(restart_strategy x);

/// Shutdown timeout that kills a child at once (OTP's `brutal_kill`).
constexpr std::chrono::milliseconds brutal_kill{0};

/// Shutdown timeout that waits as long as the child needs (OTP's
/// `infinity`); meant for children that are supervisors themselves.
constexpr std::chrono::milliseconds infinite_shutdown =
    std::chrono::milliseconds::max();

/// What a supervisor knows about one child besides how to start it.
struct child_spec {
  /// Unique name of the child within its supervisor.
  std::string id;
  /// When the child is restarted.
  restart_type restart = restart_type::permanent;
  /// How long a stopping child may take after the shutdown request before
  /// it is killed; `brutal_kill` or `infinite_shutdown` are special.
  std::chrono::milliseconds shutdown{5000};
};

/// A supervisor's strategy and restart intensity: more than `intensity`
/// restarts within any window of length `period` make it give up.
struct supervisor_flags {
  restart_strategy strategy = restart_strategy::one_for_one;
  /// Restarts allowed within `period` (OTP default 1).
  size_t intensity = 1;
  /// Length of the sliding window (OTP default 5 s).
  std::chrono::steady_clock::duration period = std::chrono::seconds{5};
};

/// Kind of a supervisor's reaction to a child's exit.
enum class supervisor_action : uint8_t {
  /// Nothing to stop or start (the child is not restarted).
  none,
  /// Stop `stop` in that order, then start `start` in that order.
  restart,
  /// The restart intensity is exceeded: stop `stop` in that order and
  /// terminate the supervisor with an error.
  escalate,
};

/// Returns the name of `x`, e.g. `"escalate"`.
const char* to_string(supervisor_action x);

/// The reaction to a child's exit.
struct supervisor_decision {
  supervisor_action action = supervisor_action::none;
  /// Running children to stop, in reverse start order.
  std::vector<std::string> stop;
  /// Children to (re)start, in start order.
  std::vector<std::string> start;
  /// Temporary children taken off the child list (the exited one or
  /// stopped siblings); they are never started again.
  std::vector<std::string> removed;
};

/// A child in the supervisor's list, as the policy sees it.
struct child_status {
  child_spec spec;
  /// Whether the supervisor holds a running incarnation.
  bool running = false;
  /// How often the child was restarted (0 for the first incarnation).
  size_t restarts = 0;
};

/// The decision logic of an OTP supervisor. The caller reports exits and
/// executes the returned decisions; the policy assumes they are executed
/// (a child listed in `stop` counts as stopped, one in `start` as running).
class supervisor_policy {
public:
  using clock_type = std::chrono::steady_clock;

  using time_point = clock_type::time_point;

  /// An empty policy without children.
  supervisor_policy() = default;

  /// A policy over `children`, in start order.
  /// @throws std::invalid_argument if `validate` reports an error.
  supervisor_policy(supervisor_flags flags, std::vector<child_spec> children);

  /// Returns an empty string if `flags` and `children` are usable, else a
  /// description of the problem (empty or duplicate ids, zero period).
  static std::string validate(const supervisor_flags& flags,
                              const std::vector<child_spec>& children);

  /// Marks every child as running and returns their ids in start order.
  std::vector<std::string> start_all();

  /// Decides what to do after the running child `id` exited at `now`;
  /// `abnormal` is false for a normal exit or a shutdown. Unknown or not
  /// running children yield `action::none`.
  supervisor_decision on_child_exit(const std::string& id, bool abnormal,
                                    time_point now);

  /// Marks every child as stopped and returns the running ones in reverse
  /// start order (orderly shutdown).
  std::vector<std::string> stop_all();

  /// The child list in start order (temporary children that exited are
  /// gone from it).
  const std::vector<child_status>& children() const noexcept {
    return children_;
  }

  /// Returns the child `id`, or null.
  const child_status* find(const std::string& id) const;

  /// The strategy and restart intensity.
  const supervisor_flags& flags() const noexcept { return flags_; }

  /// Restarts recorded in the current window (as of the last exit).
  size_t recent_restarts() const noexcept { return restarts_.size(); }

private:
  // Records a restart at `now`; returns false if the intensity is exceeded.
  bool add_restart(time_point now);

  // Fills `d` to stop the running children in [first, last) in reverse
  // order and to start the non-temporary ones in order; temporary children
  // in the range are removed.
  void restart_range(size_t first, size_t last, supervisor_decision& d);

  supervisor_flags flags_;
  std::vector<child_status> children_;
  std::deque<time_point> restarts_;
};

} // namespace dine
