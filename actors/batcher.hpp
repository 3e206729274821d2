#pragma once

// batcher: one per (model, shard).
//
// Interface: `batcher_actor` (messages/interfaces.hpp). Receives routed
// requests from the router and workers of its pool from the router; sends
// `batch` messages to workers and `std::vector<client_reply>` (id = the
// coordinator's request id) to the coordinator.
// Supervised by: the router (linked; a batcher crash takes the router's
// subtree down for a restart by the node).
// Monitors: every worker of its pool.
// On failure: a worker that goes down or misses the batch deadline has its
// batches re-dispatched to another worker, at most `max_retries` times per
// request; then the requests are answered `worker_failed`. With no worker
// left, queued requests are answered `unavailable` at once.

#include <caf/typed_event_based_actor.hpp>

#include "actors/batcher_state.hpp"
#include "messages/interfaces.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// Spawn arguments of a batcher.
struct batcher_options {
  model_config model;
  uint32_t max_retries = 2;
  std::chrono::milliseconds batch_timeout{10000};
};

/// Behavior of a batcher.
batcher_actor::behavior_type
batcher(batcher_actor::stateful_pointer<struct batcher_state> self,
        coordinator_actor coord, batcher_options opts);

} // namespace dine
