#pragma once

// worker_link: a coordinator's connection to one static worker.
//
// Interface: untyped. Internal timers `(join)` (connect) and `(heartbeat)`;
// `(register)` from the router (re-register after it removed the worker
// for missed heartbeats); `(drain, worker)` from the worker's endpoint
// when the worker shuts down (deregister it, answers bool).
// Connects through a `node_link` (actors/node_link.hpp) to the
// `worker_endpoint` a worker published at HOST:PORT (`--worker=HOST:PORT`
// on the coordinator), asks it for the worker's registration record and
// registers the worker with the router like a joining worker. While
// connected it polls the worker's counters every heartbeat interval and
// forwards them to the router as heartbeats.
// Supervised by: the node (one link per configured static worker).
// Monitors: the worker, once registered. When it is lost (process gone: at
// once; frozen: after the middleman's connection timeout) it reconnects
// with exponential backoff (20 ms doubling, capped at `reconnect-max-ms`)
// until the worker is back, then registers it again. Every failed attempt
// is logged with its reason and the next delay.

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <string>

#include "actors/link/node_link.hpp"
#include "messages/interfaces.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// State of a worker link.
struct worker_link_state {
  node_link<worker_actor> link; ///< Its handle: the registered worker.
  worker_info info;             ///< Its registration record.
  bool draining = false;        ///< Deregistered; waiting for it to go away.

  static inline const char* name = "dine.worker_link";
};

/// Behavior of the link to the static worker at `host`:`port`.
caf::behavior worker_link(caf::stateful_actor<worker_link_state>* self,
                          node_config cfg, router_actor router,
                          std::string host, uint16_t port);

} // namespace dine
