#pragma once

// registrar: joins a worker to its coordinator.
//
// Interface: untyped. Its own timers `(join)` (connect) and `(heartbeat)`;
// `(register)` from the router (it removed the worker for missed
// heartbeats: register again); `(drain)` from the node (deregister, answers
// true once the router confirmed); `(leader, host, port)` from the leader
// watch (etcd clusters): the leader's node endpoint — a registrar linked
// elsewhere moves there and registers again (without etcd it never comes).
// Connects to the coordinator's published router through a `node_link`
// (actors/node_link.hpp: never blocking a thread, every failed attempt
// logged with the next delay), registers the worker, then sends heartbeats
// every heartbeat interval.
// Supervised by: the node (rest_for_one with the worker_supervisor it
// serves).
// Monitors: the remote router, once registered. When the connection is lost
// (process gone: at once; frozen: after the middleman's connection timeout),
// it reconnects with exponential backoff (20 ms doubling, capped at
// `reconnect-max-ms`) and registers again. `(drain)` deregisters the worker
// (the router sends it no new batches) and stops reconnecting.

#include <caf/event_based_actor.hpp>

#include <cstdint>
#include <functional>

#include "actors/link/node_link.hpp"
#include "messages/interfaces.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// Called after every successful registration with the worker's id.
using registered_fn = std::function<void(uint64_t)>;

/// State of a registrar.
struct registrar_state {
  node_link<router_actor> link; ///< To the coordinator's router.
  uint64_t seq = 0;

  static inline const char* name = "dine.registrar";
};

/// Behavior of a registrar for `worker`.
caf::behavior registrar(caf::stateful_actor<struct registrar_state>* self,
                        node_config cfg, worker_info info, worker_actor worker,
                        registered_fn on_registered);

} // namespace dine
