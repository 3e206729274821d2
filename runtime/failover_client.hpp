#pragma once

// failover_client: the client rule for several coordinators
// (docs/protocol.md, "Several coordinators"), for dine-client, dine-bench
// and the tests. It talks to one address at a time and keeps every request
// it sent until that request's final reply. When the connection fails or
// closes, or a reply says `not_leader`, it closes the connection, moves to
// the next address (round robin, a short pause after a full round) and
// resends every request still waiting, with the same id. The old
// connection is closed before anything is resent, so no reply of it can
// arrive afterwards: each request gets exactly one final reply here. A
// duplicate the dead coordinator had already started is absorbed by the
// new leader's response cache and coalescing (the request id and inputs
// are the same), or simply computed twice; it is answered once.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "messages/client.hpp"
#include "runtime/client_conn.hpp"

namespace dine {

/// A pipelined client that fails over between coordinators.
class failover_client {
public:
  using duration = std::chrono::milliseconds;

  /// `addrs`: `HOST:PORT` of every coordinator; `api_key`: sent in a
  /// `hello` on each new connection unless empty.
  failover_client(std::vector<std::string> addrs, std::string api_key = {},
                  duration connect_timeout = std::chrono::seconds{2});

  /// Sends `req` (its id must be unique among pending requests) and keeps
  /// it until its final reply. Returns an empty string, or why no
  /// coordinator could take it (it stays pending and is resent on the next
  /// `next`).
  std::string send(client_request req);

  /// Waits up to `timeout` for the next reply (a stream chunk or a final
  /// reply; `not_leader` replies are never returned: they cause a
  /// fail-over). Returns an empty string with `out` set, else why nothing
  /// came (`timed out` when time ran out).
  std::string next(client_reply& out, duration timeout);

  /// Requests sent and not finally answered.
  size_t pending() const noexcept { return pending_.size(); }

  /// Times the client moved to another address.
  uint64_t failovers() const noexcept { return failovers_; }

  /// Requests sent again after a fail-over.
  uint64_t resent() const noexcept { return resent_; }

  /// Final replies for ids not pending (dropped; must stay 0: the closed
  /// connection cannot deliver any).
  uint64_t strays() const noexcept { return strays_; }

  /// The address in use (or tried next).
  const std::string& current() const noexcept { return addrs_[at_]; }

private:
  std::string ensure_connected(duration budget);
  void fail_over();

  std::vector<std::string> addrs_;
  std::string api_key_;
  duration connect_timeout_;
  size_t at_ = 0;
  size_t tried_in_round_ = 0;
  std::unique_ptr<client_conn> conn_;
  std::map<uint64_t, client_request> pending_;
  bool resend_ = false; ///< The new connection must get `pending_`.
  uint64_t failovers_ = 0;
  uint64_t resent_ = 0;
  uint64_t strays_ = 0;
};

} // namespace dine
