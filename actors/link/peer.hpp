#pragma once

// peer: the one place where a node is reached by and reaches other nodes.
//
// Every inter-node connection goes through these three functions: a node
// publishes its cluster endpoint (router, cache, worker endpoint) with
// `publish_actor`, links connect with `connect_to` (asynchronous, used by
// actors/node_link.hpp), and start-up code that must know at once uses
// `connect_now`. They talk to the node guard (actors/node_guard.hpp), a
// middleman actor whose sockets check every BASP frame header before CAF
// allocates for it (docs/security.md), over mutual TLS when the node has
// tls-cert/tls-key/tls-ca (actors/link/tls_scribe.hpp). Joins are
// authenticated by the cluster token in the router (runtime/cluster_token.hpp).

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman.hpp>
#include <caf/node_id.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/link/node_guard.hpp"

#include <algorithm>
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
  caf::detail::type_list<Handle> tk;
  caf::expected<uint16_t> result{caf::sec::request_timeout};
  caf::scoped_actor self{sys};
  self->request(node_guard(sys), std::chrono::seconds{10},
                caf::publish_atom::value, port,
                caf::actor_cast<caf::strong_actor_ptr>(hdl),
                sys.message_types(tk), host, true)
      .receive([&](uint16_t p) { result = p; },
               [&](caf::error& err) { result = std::move(err); });
  return result;
}

/// Connects, without blocking, to the actor published at `host:port` and
/// calls `ok(handle)` with it cast to `Handle` (a null handle if none is
/// published there), or `fail(error)` if the node cannot be reached within
/// 5 s.
template <class Handle, class Self, class Ok, class Fail>
void connect_to(Self* self, const std::string& host, uint16_t port, Ok ok,
                Fail fail) {
  auto mm = node_guard(self->system());
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
  caf::expected<Handle> result{caf::sec::request_timeout};
  caf::scoped_actor self{sys};
  self->request(node_guard(sys), std::chrono::seconds{5},
                caf::connect_atom::value, host, port)
      .receive(
          [&](const caf::node_id&, caf::strong_actor_ptr& ptr,
              const std::set<std::string>& ifs) {
            // As the middleman's remote_actor: something must be published
            // there, with (at least) the interface of `Handle`.
            caf::detail::type_list<Handle> tk;
            auto expected = sys.message_types(tk);
            if (!ptr)
              result = caf::make_error(caf::sec::no_actor_published_at_port);
            else if (!std::includes(ifs.begin(), ifs.end(), expected.begin(),
                                    expected.end()))
              result = caf::make_error(
                  caf::sec::unexpected_actor_messaging_interface);
            else
              result = caf::actor_cast<Handle>(std::move(ptr));
          },
          [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace dine
