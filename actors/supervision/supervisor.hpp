#pragma once

// supervisor: a generic supervisor after Erlang/OTP's `supervisor`.
//
// Interface: `supervisor_actor` (messages/supervisor_interface.hpp):
// `(children)` -> the children and their current handles, `(stop)` ->
// orderly shutdown, `(subscribe, a)` -> `a` gets `(restarted, id, handle)`
// after each restart.
// Supervised by: its parent supervisor (as a child spec made with
// `supervisor_factory`), or the node's main function for the root.
// Monitors: its children (started by their factories, in order). It does
// not link to them: in CAF 0.17 a linked actor that dies with
// `exit_reason::kill` kills its link partners even if they trap exits, so a
// killed child would take its supervisor down. Instead, a termination hook
// kills every child still alive when the supervisor terminates for any
// reason (including `kill`), so children never outlive it.
// On failure: a child's exit is judged by `supervisor_policy` (strategy,
// restart type, restart intensity). Siblings the strategy names are stopped
// in reverse start order (`user_shutdown`, then `kill` after the child's
// shutdown timeout), then restarted in start order. If the intensity is
// exceeded, it stops all children in reverse order and terminates with
// `errc::supervisor_gave_up` (naming the child), which its parent sees as
// an abnormal exit. An exit message from any other actor (its parent)
// stops the children in reverse order and terminates with that reason.

#include <caf/typed_event_based_actor.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "messages/supervisor_interface.hpp"
#include "runtime/supervisor_policy.hpp"

namespace dine {

/// Spawns a child in the context of its supervisor and returns its handle
/// (`caf::actor_cast<caf::actor>(typed_handle)`); an invalid handle or an
/// exception counts as a failed start. The factory must not link the child
/// to the supervisor.
using child_factory = std::function<caf::actor(caf::local_actor* self)>;

/// A child of a supervisor: its spec and how to start it.
struct supervised_child {
  child_spec spec;
  child_factory start;
};

/// State of a supervisor.
struct supervisor_state {
  /// A child as the actor knows it, in start order; kept after a temporary
  /// child left the policy's list.
  struct child {
    child_spec spec;
    child_factory start;
    caf::actor hdl; ///< Invalid once the child is down.
  };

  /// What the supervisor is doing.
  enum class phase : uint8_t {
    /// Waiting for exits.
    running,
    /// Stopping `to_stop`, then starting `to_start`.
    restarting,
    /// Stopping all children, then terminating with `reason`.
    stopping,
  };

  /// Name used in errors.
  std::string label;
  supervisor_policy policy;
  /// Shared with the termination hook that kills surviving children.
  std::shared_ptr<std::vector<child>> children;
  phase mode = phase::running;
  /// Children still to stop, in that order.
  std::deque<std::string> to_stop;
  /// Child being stopped now (empty if none) and its timer's token.
  std::string stopping;
  uint64_t timer = 0;
  /// Children to start once `to_stop` is done.
  std::vector<std::string> to_start;
  /// Exits (id, abnormal) that arrived while restarting, handled afterwards.
  std::vector<std::pair<std::string, bool>> exits;
  /// Exit reason once stopping.
  caf::error reason;
  /// Pending `(stop)` requests, answered before terminating.
  std::vector<caf::response_promise> stop_requests;
  /// Receivers of `(restarted, id, handle)`.
  std::vector<caf::actor> subscribers;

  static inline const char* name = "dine.supervisor";
};

/// Behavior of a supervisor named `label` over `children` (in start order).
/// Invalid specs or a child that fails to start terminate it with
/// `errc::invalid_config` or `errc::child_start_failed`.
supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
           std::string label, supervisor_flags flags,
           std::vector<supervised_child> children);

/// Returns a factory that spawns a supervisor, for nesting supervisors.
/// Give such a child `infinite_shutdown` (or a generous timeout), as OTP
/// recommends for supervisor children.
child_factory supervisor_factory(std::string label, supervisor_flags flags,
                                 std::vector<supervised_child> children);

/// Returns whether `reason` counts as an abnormal exit for restart types:
/// anything but a normal exit or `user_shutdown` (OTP's `shutdown`).
bool is_abnormal_exit(const caf::error& reason);

} // namespace dine
