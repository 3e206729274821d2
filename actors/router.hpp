#pragma once

// router: the worker registry and model table of a coordinator node.
//
// Interface: `router_actor`. Published on the cluster port, so workers on
// other hosts register here. Forwards each request to the batcher of its
// model; answers `unknown_model` / `unavailable` itself.
// Supervised by: the node (the coordinator and router are started together
// and stopped together).
// Monitors: every registered worker (a lost worker leaves the registry at
// once; its batchers retry its batches elsewhere).
// On failure: a batcher is linked to the router, so a crashed batcher takes
// the router down with it and the node supervisor's policy applies.

#include <caf/typed_event_based_actor.hpp>

#include <map>
#include <vector>

#include "messages/interfaces.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// State of the router.
struct router_state {
  struct worker_entry {
    worker_actor hdl;
    worker_info info;
    uint64_t id = 0;
    heartbeat last;
  };

  node_config cfg;
  coordinator_actor coord;
  std::map<std::string, batcher_actor> batchers;
  std::vector<worker_entry> workers;
  uint64_t next_worker_id = 1;

  static inline const char* name = "dine.router";
};

/// Behavior of the router.
router_actor::behavior_type
router(router_actor::stateful_pointer<struct router_state> self,
       node_config cfg);

} // namespace dine
