#pragma once

// worker_endpoint: what a static worker publishes.
//
// Interface: `worker_endpoint_actor`. A worker started with `--listen` and
// no `--join` publishes this actor on its cluster port; a coordinator's
// worker_link asks it `(join, link)` and gets the worker's registration
// record and handle. `(drain)` (SIGTERM) asks every link to deregister the
// worker and answers true once all confirmed.
// Supervised by: the node (stopped with the worker).
// Monitors: the links that joined (a lost link is forgotten).
// On failure: nothing to recover; a coordinator reconnects on its own.

#include <caf/typed_event_based_actor.hpp>

#include <vector>

#include "messages/interfaces.hpp"

namespace dine {

/// State of a worker endpoint.
struct worker_endpoint_state {
  worker_info info;
  worker_actor worker;
  std::vector<caf::actor> links; ///< Coordinators' worker_links.

  static inline const char* name = "dine.worker_endpoint";
};

/// Behavior of the endpoint of `worker`, registered as `info`.
worker_endpoint_actor::behavior_type worker_endpoint(
    worker_endpoint_actor::stateful_pointer<worker_endpoint_state> self,
    worker_info info, worker_actor worker);

} // namespace dine
