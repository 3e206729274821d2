#pragma once

// leader_watch: tells a worker node's registrars where the leader of their
// etcd cluster is (docs/design.md, "Coordinator high availability").
//
// Interface: untyped. Its own timer `(tick)` reads the leader key
// (/dine/NAME/leader) every `etcd-poll-ms` and sends `(leader, host, port)`
// with the leader's node endpoint to every registrar `targets()` returns
// (the current incarnations); a registrar already linked there ignores it,
// one linked elsewhere moves (actors/link/registrar.hpp).
// Runs DETACHED: the etcd calls block (runtime/etcd_client.hpp).
// Supervised by: the node (a top-level actor). Monitors: nothing. On
// failure: an etcd error or a garbled leader value is logged once per
// change and polled again; registrars keep the link they have.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "runtime/etcd_client.hpp"

namespace dine {

/// The node endpoint in a leader key's value (JSON with `"node":
/// "HOST:PORT"`); false if the value is not such an object.
bool parse_leader_node(const std::string& value, std::string& host,
                       uint16_t& port);

/// Settings of a leader watch.
struct leader_watch_options {
  std::vector<etcd_endpoint> etcd;
  std::chrono::milliseconds timeout{500};
  std::chrono::milliseconds poll{200};
  std::string key; ///< `/dine/NAME/leader`.
};

/// State of a leader watch.
struct leader_watch_state {
  std::unique_ptr<etcd_client> etcd;
  std::string last;    ///< The leader value last seen.
  std::string problem; ///< The last logged failure.

  static inline const char* name = "dine.leader_watch";
};

/// Behavior of a leader watch informing `targets()`.
caf::behavior leader_watch(caf::stateful_actor<leader_watch_state>* self,
                           leader_watch_options opts,
                           std::function<std::vector<caf::actor>()> targets);

} // namespace dine
