#pragma once

// registrar: joins a worker to its coordinator.
//
// Interface: untyped, internal timers only. Connects to the coordinator's
// published router through the middleman (never blocking a thread),
// registers the worker, then sends heartbeats every heartbeat interval.
// Supervised by: the node (linked to the worker_supervisor it serves).
// Monitors: the remote router. When the connection is lost (process gone:
// at once; frozen: after the middleman's connection timeout), it reconnects
// with exponential backoff (20 ms doubling, capped at `reconnect-max-ms`)
// and registers again; `(register)` from the router (it removed the worker
// for missed heartbeats) registers again too. `(drain)` deregisters the worker
// (the router sends it no new batches) and stops reconnecting; it answers true
// once the router confirmed.

#include <functional>

#include <caf/event_based_actor.hpp>

#include <chrono>

#include "messages/interfaces.hpp"
#include "runtime/backoff.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// Called after every successful registration with the worker's id.
using registered_fn = std::function<void(uint64_t)>;

/// State of a registrar.
struct registrar_state {
  router_actor router;
  backoff retry; ///< Delay of the next connection attempt.
  bool connecting = false;
  uint64_t seq = 0;
  bool draining = false; ///< Deregistered: never reconnect.

  static inline const char* name = "dine.registrar";
};

/// Behavior of a registrar for `worker`.
caf::behavior registrar(caf::stateful_actor<struct registrar_state>* self,
                        node_config cfg, worker_info info, worker_actor worker,
                        registered_fn on_registered);

} // namespace dine
