#pragma once

// coordinator: the entry of every client request.
//
// Interface: `coordinator_actor`. Receives one `std::vector<client_request>`
// per socket read from a connection broker, answers admin ops, assigns each
// infer request an internal id, tracks it in the in-flight table and hands
// it to the router. Results come back as `std::vector<client_reply>`; the
// coordinator sends each connection its replies in one message.
// Supervised by: the node.
// Monitors: nothing; a closed connection simply stops receiving.
// On failure: the in-flight table guarantees exactly one reply per accepted
// request: a sweep answers `deadline_exceeded` once a deadline passes, and
// a result arriving after that is dropped (counted as `late`).

#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <unordered_map>

#include "messages/interfaces.hpp"
#include "runtime/node_config.hpp"
#include "runtime/ops_encode.hpp"

namespace dine {

/// State of the coordinator.
struct coordinator_state {
  using clock = std::chrono::steady_clock;

  /// One accepted request awaiting its reply.
  struct entry {
    connection_actor conn;
    uint64_t client_id = 0;
    clock::time_point accepted;
    clock::time_point deadline;
  };

  router_actor router;
  node_config cfg;
  uint64_t next_rid = 1;
  std::unordered_map<uint64_t, entry> inflight;
  request_counters counters;
  bool draining = false; ///< SIGTERM: new requests get `shutting_down`.

  static inline const char* name = "dine.coordinator";
};

/// Behavior of the coordinator.
coordinator_actor::behavior_type
coordinator(coordinator_actor::stateful_pointer<struct coordinator_state> self,
            router_actor router, node_config cfg);

} // namespace dine
