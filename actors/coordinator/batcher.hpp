#pragma once

// batcher: one per (model, version, shard).
//
// Interface: `batcher_actor` (messages/interfaces.hpp). Receives routed
// requests and the workers of its pool from the router; sends `batch`
// messages to workers (one-way; the result comes back as a `batch_result`
// message) and `std::vector<client_reply>` (id = the coordinator's request
// id) to the coordinator. Picks workers with the model's balancing strategy
// (runtime/balancer.hpp); key-based strategies get batches formed per
// target worker (runtime/key_batching.hpp).
// Supervised by: the router (linked; a batcher crash takes the router's
// subtree down for a restart by the node).
// Monitors: every worker of its pool.
// On failure: a worker that goes down, is reported lost by the router
// (missed heartbeats) or misses the batch deadline has its batches
// re-dispatched to another worker, at most `max_retries` times per
// request and within the retry budget; then the requests are answered
// `worker_failed`. A streamed request whose chunks were forwarded
// (actors/coordinator/batcher_stream.cpp) is never re-dispatched: it is
// answered `worker_lost`. These decisions are runtime/retry_policy.hpp's.
// Failures and timeouts feed the outlier detector: a worker failing
// `outlier-failures` times in a row is ejected for a backoff, then probed
// with one batch and readmitted on success. With no worker left, queued
// requests go back to the router (`reroute`), which falls back to another
// shard or answers `unavailable` at once.

#include <caf/typed_event_based_actor.hpp>

#include "actors/coordinator/batcher_state.hpp"
#include "messages/interfaces.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// Spawn arguments of a batcher.
struct batcher_options {
  model_config model;
  uint32_t version = 1;
  uint32_t shard = 0;
  std::string strategy = "round_robin"; ///< A `make_balancer` name.
  outlier_config outlier;
  uint32_t max_retries = 2;
  std::chrono::milliseconds batch_timeout{10000};
};

/// Behavior of a batcher.
batcher_actor::behavior_type
batcher(batcher_actor::stateful_pointer<struct batcher_state> self,
        coordinator_actor coord, router_actor router, batcher_options opts);

} // namespace dine
