#pragma once

// elector: a coordinator's campaign for the leadership of its cluster on
// etcd (docs/design.md, "Coordinator high availability").
//
// Interface: untyped. Its own timer `(tick)` makes the next etcd call the
// election decides (runtime/leader_election.hpp); `(drain)` from the node
// (SIGTERM) resigns: the lease is revoked at once, so a standby takes over
// without waiting for the TTL; answers true.
// Runs DETACHED (a thread of its own): the etcd calls block for up to the
// call timeout per endpoint (runtime/etcd_client.hpp).
// Writes the client port's leader_gate after every call (serving deadline,
// status for `health`), and sends `(fence)` to the client acceptor when it
// loses the leadership, which closes every client connection.
// Supervised by: the node (a top-level actor, stopped last-started-first).
// Monitors: nothing. On failure: etcd errors are outcomes, not failures —
// they are logged on change (unreachable / reachable again) and the
// election decides; the actor itself does not fail.

#include <memory>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "runtime/etcd_client.hpp"
#include "runtime/leader_election.hpp"
#include "runtime/leader_gate.hpp"

namespace dine {

/// Settings of an elector.
struct elector_options {
  std::vector<etcd_endpoint> etcd;
  std::chrono::milliseconds timeout{500}; ///< Per etcd call and endpoint.
  std::string cluster;                    ///< Its name, in log lines.
  std::string key;                        ///< `/dine/NAME/leader`.
  std::string value;                      ///< Published while leading.
  leader_election::options election;
};

/// State of an elector.
struct elector_state {
  std::unique_ptr<etcd_client> etcd;
  std::unique_ptr<leader_election> election;
  bool led = false;       ///< Led after the previous call.
  bool reachable = true;  ///< etcd answered the previous call.
  bool resigned = false;  ///< No more calls.
  std::string leader;     ///< The leader key's value, last seen.
  std::string etcd_error; ///< The last etcd failure.

  static inline const char* name = "dine.elector";
};

/// Behavior of an elector publishing to `gate`; `acceptor` is the client
/// acceptor it fences.
caf::behavior elector(caf::stateful_actor<elector_state>* self,
                      elector_options opts, std::shared_ptr<leader_gate> gate,
                      caf::actor acceptor);

} // namespace dine
