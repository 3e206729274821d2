#pragma once

// client_listener: the TCP front door (an io::broker on the multiplexer
// thread) and one forked broker per client connection.
//
// Interface: untyped. The acceptor answers `(join_atom)` with the bound
// port, closes it on `(drain_atom)`, and answers `(sync_atom)` once every
// connection handled what was sent to it before (the node's last step of
// a drain); each connection broker reacts to `std::vector<client_reply>`
// (`connection_actor`) and `(sync_atom)`.
// Design ("E1" in docs/design.md, CAF 0.17 facts): read with `at_most`,
// decode every complete frame of a read, send ONE message per read to the
// coordinator, write all replies of a message and flush once.
// Supervised by: the node. Monitors: nothing.
// Backpressure: a connection stops reading while it has
// `max_inflight_per_connection` requests unanswered or more than
// `max_write_buffer` bytes unsent, and resumes at half of either. Bytes
// CAF still reads in the event that halted it (up to
// `middleman.max-consecutive-reads` reads) are parked undecoded and decoded
// a read at a time on resume, so the limit holds to within one read.
// On bad input: a frame that cannot be decoded gets an error reply; a length
// prefix above `max_frame` gets a `frame_too_large` reply, then the
// connection is closed (the stream cannot be resynchronized).
// Access and limits (docs/security.md, "Client port"): with API keys, a
// connection is served only after a `hello` with a valid key (else
// `unauthorized`, then closed), and admin ops need an admin key
// (`forbidden`); the acceptor refuses connections past `max_connections`
// or `max_per_address` (`too_many_connections`); every connection reports
// the bytes it holds to the node's `memory_budget`, and the largest holders
// are closed with `memory_budget_exceeded` when the sum exceeds it.
// Leadership (docs/design.md, "Coordinator high availability"): with a
// leader gate, a request read while the gate is closed gets `not_leader`
// (`hello` and `health` pass); replies found when the gate no longer lets
// them out (the lease was lost) are dropped and the connection is closed,
// so a deposed leader never answers what the new one may answer; `(fence)`
// closes every connection.
// TLS (`client-tls`): the port's doorman makes TLS scribes
// (actors/front/client_tls.hpp); everything above sees plaintext frames.
// Slow clients (docs/security.md, "Slow clients"): a TLS handshake not done
// within `handshake_timeout`, and a frame still incomplete `frame_timeout`
// after its first byte (reading paused by backpressure does not count),
// close the connection (counted in `stats`); decided by runtime/
// slow_client.hpp with one timer per connection, only while one of them is
// pending. Idle connections without a partial frame are kept.

#include <caf/io/broker.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <memory>

#include "messages/interfaces.hpp"
#include "runtime/api_keys.hpp"
#include "runtime/front_stats.hpp"
#include "runtime/leader_gate.hpp"
#include "runtime/tls_context.hpp"

namespace dine {

/// Settings of the front door.
struct listener_options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  uint32_t max_frame = 16u << 20;
  uint32_t max_inflight = 4096;
  size_t max_write_buffer = 4u << 20;
  uint32_t max_connections = 0;         ///< In total; 0 = no limit.
  uint32_t max_per_address = 0;         ///< From one address; 0 = none.
  size_t memory_budget = 0;             ///< Buffered bytes; 0 = none.
  std::shared_ptr<const api_keys> keys; ///< Null or empty: no keys.
  /// A coordinator of an etcd cluster: serves only while its gate is
  /// open; null: always serves.
  std::shared_ptr<leader_gate> gate;
  std::string cluster; ///< The etcd cluster's name, in `not_leader`.
  /// A server context: the port speaks TLS (actors/front/client_tls.hpp).
  tls_context tls;
  /// Bound of a TLS handshake, from the connection's accept.
  std::chrono::milliseconds handshake_timeout{10000};
  /// Bound of one frame, from its first byte to its last.
  std::chrono::milliseconds frame_timeout{30000};
  /// Refusal counters (shared with the HTTP port); null: the acceptor's.
  std::shared_ptr<front_stats> stats;
};

/// The acceptor: `(join_atom)` opens the port and returns it.
caf::behavior client_acceptor(caf::io::broker* self, coordinator_actor coord,
                              listener_options opts);

} // namespace dine
