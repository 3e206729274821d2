#pragma once

// http_relay: the HTTP front door's connection to the coordinator.
//
// Interface: untyped; reacts to `std::vector<client_request>` (from the
// HTTP io thread, via `anon_send`), which it sends on to the coordinator as
// its own, and to `std::vector<client_reply>` (`connection_actor`), which
// it hands to the callback registered for each reply's id. To the
// coordinator it is one more client connection: requests and replies,
// streamed chunks included, take exactly the wire's path (docs/http.md).
// Supervised by: the node (watched: if it stops, the node exits).
// Monitors: nothing.
// On failure: a reply whose id has no callback (never registered) is
// dropped; the coordinator answers every accepted request within its
// deadline, so every callback runs.

#include <memory>
#include <mutex>
#include <unordered_map>

#include <caf/event_based_actor.hpp>

#include "http/backend.hpp"
#include "messages/interfaces.hpp"
#include "runtime/leader_gate.hpp"

namespace dine {

/// The callbacks of the requests in flight, shared by the relay and the
/// backend handle the HTTP routes call.
struct relay_table {
  std::mutex mtx;
  std::unordered_map<uint64_t, http::reply_fn> fns;
};

/// The relay actor.
/// With a `gate` (a coordinator of an etcd cluster), requests other than
/// `health` get `not_leader` while the gate is closed, and replies found
/// after it closed for replies become `not_leader` errors (HTTP 503).
caf::behavior http_relay(caf::event_based_actor* self, coordinator_actor coord,
                         std::shared_ptr<relay_table> table,
                         std::shared_ptr<leader_gate> gate = nullptr);

/// The backend the HTTP routes use: registers the callback, then sends the
/// request to `relay`.
std::shared_ptr<http::backend>
make_relay_backend(caf::actor relay, std::shared_ptr<relay_table> table);

} // namespace dine
