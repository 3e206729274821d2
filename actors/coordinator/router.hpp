#pragma once

// router: the worker registry and model registry of a coordinator node.
//
// Interface: `router_actor`. Published on the cluster port, so workers on
// other hosts register here. For each request: resolves model and version
// in the model registry (runtime/model_registry.hpp), checks the inputs
// against the model's schema, picks the shard from the key hash, and
// forwards the request to the batcher of (model, version, shard); falls
// back to another shard or answers `unknown_model` / `invalid_input` /
// `unavailable` itself, at once.
// Supervised by: the node (the coordinator and router are started together
// and stopped together).
// Monitors: every registered worker (a lost worker leaves the registry at
// once; its batchers retry its batches elsewhere). A remote worker whose
// heartbeats stop for `missed-heartbeats` intervals is removed the same
// way; a heartbeat from a worker it does not know asks it to register.
// On failure: a batcher is linked to the router, so a crashed batcher takes
// the router down with it and the node supervisor's policy applies.

#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include "messages/interfaces.hpp"
#include "runtime/model_registry.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// State of the router.
struct router_state {
  using clock = std::chrono::steady_clock;

  struct worker_entry {
    worker_actor hdl;
    worker_info info;
    uint64_t id = 0;
    heartbeat last;
    clock::time_point seen; ///< Registration or last heartbeat.
    bool local = false;     ///< In this process: no heartbeats needed.
  };

  struct batcher_entry {
    batcher_actor hdl;
    uint64_t joins = 0; ///< Workers sent to it.
    bool empty = false; ///< It reported an empty pool since the last join.
  };

  node_config cfg;
  coordinator_actor coord;
  std::unique_ptr<model_registry> registry;
  std::map<route_target, batcher_entry> batchers;
  std::vector<worker_entry> workers;
  uint64_t next_worker_id = 1;
  /// The default versions last sent to the coordinator.
  std::vector<model_version> versions_sent;

  static inline const char* name = "dine.router";
};

/// Behavior of the router.
router_actor::behavior_type
router(router_actor::stateful_pointer<struct router_state> self,
       node_config cfg);

} // namespace dine
