#pragma once

// coordinator: the entry of every client request.
//
// Interface: `coordinator_actor`. Receives one `std::vector<client_request>`
// per socket read from a connection broker, answers admin ops, assigns each
// infer request an internal id and tracks it in the in-flight table. A
// cacheable request first joins the coalescer (identical requests in flight
// run once) and, as leader, asks the cache (one `cache_lookup` per read);
// hits are answered at once, misses go to the router. Results come back as
// `std::vector<client_reply>`; ok results are written to the cache (one
// batched message) and shared with the followers; the coordinator sends
// each connection its replies in one message. A streamed request (never
// cached) also gets its chunks (`std::vector<stream_chunk>` from the
// batchers) as non-final replies; op `cancel` and a closed connection
// (`cancel` from it) end a stream at once and send `(cancel, model, rid)`
// to the router to stop its sequence. A connection's `cancel` comes with
// high priority when it closes, ahead of batches it sent before that may
// still wait in the mailbox (a flood): those are dropped unrun, counted as
// `orphaned` (runtime/closed_conns.hpp), so that the backlog of gone
// clients neither runs nor holds up a drain. Every final reply is counted per
// model in a recent window (runtime/latency_window.hpp) and every error in
// a bounded ring (runtime/error_ring.hpp), both reported by `stats`.
// Supervised by: the node.
// Monitors: the cache actor (down: pending lookups count as misses).
// On failure: the in-flight table guarantees exactly one reply per accepted
// request: a sweep answers `deadline_exceeded` once a deadline passes, and
// a result arriving after that is dropped (counted as `late`). A lookup
// the cache has not answered after 100 ms (`cache_timeout` in
// coordinator.cpp, a constant, not a config key) counts as a miss; the
// sweep that checks it runs every min(20 ms, request-timeout / 4). The
// decisions live in runtime/admission_policy.hpp and
// runtime/inflight_table.hpp. Metrics: every final reply is recorded in a
// per-actor `request_recorder`, folded into the `metrics_hub` each sweep
// (runtime/metrics_hub.hpp); a lost router or cache answer only leaves the
// snapshot as it was. Every request gets a trace id (the client's or a
// generated one) that its reply carries; failed and sampled requests are
// logged as one line each through a `log_sink` that never blocks
// (runtime/request_log.hpp). A model with pool stages in its pipeline
// takes more hops under the same internal id: routed to its preproc stage
// (`NAME@pre`) first, its result routed on to the model, the model's to
// its postproc stage (`NAME@post`); only the last result is the final
// reply (runtime/stage_tracker.hpp decides, docs/design.md "Pre- and
// post-processing pipelines"). The in-flight entry and its deadline cover
// all hops; a stage that fails is answered with an error naming it.

#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <unordered_map>

#include "messages/interfaces.hpp"
#include "runtime/admission_policy.hpp"
#include "runtime/closed_conns.hpp"
#include "runtime/coalescer.hpp"
#include "runtime/inflight_table.hpp"
#include "runtime/leader_gate.hpp"
#include "runtime/log_sink.hpp"
#include "runtime/metrics_hub.hpp"
#include "runtime/node_config.hpp"
#include "runtime/ops_encode.hpp"
#include "runtime/request_log.hpp"
#include "runtime/stage_tracker.hpp"

namespace dine {

/// Where a coordinator records what it answered; either may be null.
struct coordinator_telemetry {
  std::shared_ptr<metrics_hub> metrics; ///< `metrics-port` set.
  std::shared_ptr<log_sink> log;        ///< Request log lines.
  /// The leadership, on an etcd cluster's coordinator (`health` shows it).
  std::shared_ptr<leader_gate> gate;
};

/// State of the coordinator.
struct coordinator_state {
  using clock = std::chrono::steady_clock;
  using table = inflight_table<connection_actor>;
  using entry = table::entry;

  /// A lookup sent to the cache and not answered yet.
  struct lookup {
    std::vector<client_request> reqs;
    clock::time_point sent;
  };

  router_actor router;
  cache_actor cache;
  node_config cfg;
  /// Deadline, cacheability and the version a cache key names.
  admission_policy admit;
  uint64_t next_rid = 1;
  uint64_t next_tag = 1;
  table inflight;
  std::unordered_map<uint64_t, lookup> lookups;
  /// Requests waiting for an identical one (kept for a hand-over).
  std::unordered_map<uint64_t, client_request> followers;
  coalescer coalesce;
  request_counters counters;
  /// Per-model throughput and latency of final replies (the `stats` op).
  latency_window window;
  /// The latest error replies (the `stats` op).
  error_ring recent_errors;
  bool draining = false; ///< SIGTERM: new requests get `shutting_down`.
  /// Connections that announced their close (a high-priority `cancel`):
  /// batches they sent before, still queued here, are dropped unrun.
  closed_conns closed{std::chrono::seconds{60}, 100000};
  /// The process's metrics (null: `--metrics-port` not set). Replies are
  /// recorded in `recorder` and folded into the hub every sweep; the
  /// cluster snapshot is refreshed every `metrics_every` sweeps.
  std::shared_ptr<metrics_hub> metrics;
  request_recorder recorder;
  uint32_t sweeps = 0;
  /// Sampled and failed requests are logged here (null: not at all).
  std::shared_ptr<log_sink> log;
  std::shared_ptr<leader_gate> gate; ///< Null without etcd.
  trace_ids traces; ///< For requests that came without a trace id.
  /// Requests of models with preproc / postproc pool stages: which hop
  /// each is on (inactive, never consulted, when no model has one).
  stage_tracker stages;

  static inline const char* name = "dine.coordinator";
};

/// Behavior of the coordinator; `cache` may be null (no response cache),
/// `metrics` too (no metrics).
coordinator_actor::behavior_type
coordinator(coordinator_actor::stateful_pointer<coordinator_state> self,
            router_actor router, cache_actor cache, node_config cfg,
            coordinator_telemetry tel);

/// Refreshes the metrics hub's cluster snapshot (router, cache, in-flight).
void refresh_metrics(
    coordinator_actor::stateful_pointer<coordinator_state> self);

/// Answers an admin op (`health`, `models`, `stats`, `fault`).
void answer_admin_op(
    coordinator_actor::stateful_pointer<coordinator_state> self,
    connection_actor conn, client_request req);

} // namespace dine
