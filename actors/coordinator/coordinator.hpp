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
// to the router to stop its sequence. Every final reply is counted per
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
// runtime/inflight_table.hpp.

#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <unordered_map>

#include "messages/interfaces.hpp"
#include "runtime/admission_policy.hpp"
#include "runtime/coalescer.hpp"
#include "runtime/inflight_table.hpp"
#include "runtime/node_config.hpp"
#include "runtime/ops_encode.hpp"

namespace dine {

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

  static inline const char* name = "dine.coordinator";
};

/// Behavior of the coordinator; `cache` may be null (no response cache).
coordinator_actor::behavior_type
coordinator(coordinator_actor::stateful_pointer<coordinator_state> self,
            router_actor router, cache_actor cache, node_config cfg);

/// Answers an admin op (`health`, `models`, `stats`, `fault`).
void answer_admin_op(
    coordinator_actor::stateful_pointer<coordinator_state> self,
    connection_actor conn, client_request req);

} // namespace dine
