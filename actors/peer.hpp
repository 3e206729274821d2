#pragma once

// peer: the one place where a node is reached by and reaches other nodes.
//
// Every inter-node connection goes through these three functions: a node
// publishes its cluster endpoint (router, cache, worker endpoint) with
// `publish_actor`, links connect with `connect_to` (asynchronous, used by
// actors/node_link.hpp), and start-up code that must know at once uses
// `connect_now`. Today they call the middleman directly; this is the seam
// where TLS (caf::openssl's `publish`/`remote_actor`) and an authenticated
// join go later (docs/design.md, "Links between nodes").

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman.hpp>
#include <caf/node_id.hpp>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>

namespace dine {

/// Publishes `hdl` on `host:port` for other nodes (port 0: any free port;
/// the address is reused); returns the bound port.
template <class Handle>
caf::expected<uint16_t> publish_actor(caf::actor_system& sys, const Handle& hdl,
                                      const std::string& host, uint16_t port) {
  return sys.middleman().publish(hdl, port, host.c_str(), true);
}

/// Connects, without blocking, to the actor published at `host:port` and
/// calls `ok(handle)` with it cast to `Handle` (a null handle if none is
/// published there), or `fail(error)` if the node cannot be reached within
/// 5 s.
template <class Handle, class Self, class Ok, class Fail>
void connect_to(Self* self, const std::string& host, uint16_t port, Ok ok,
                Fail fail) {
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, std::chrono::seconds{5}, caf::connect_atom::value, host,
                port)
      .then(
          [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
              const std::set<std::string>&) mutable {
            ok(caf::actor_cast<Handle>(std::move(ptr)));
          },
          [=](caf::error& err) mutable { fail(err); });
}

/// Connects to the actor published at `host:port`, blocking the calling
/// thread (start-up code only; actors use `connect_to`).
template <class Handle>
caf::expected<Handle> connect_now(caf::actor_system& sys,
                                  const std::string& host, uint16_t port) {
  return sys.middleman().remote_actor<Handle>(host, port);
}

} // namespace dine
