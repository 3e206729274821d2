#pragma once

// connect_to: asks the middleman, without blocking, for the actor another
// node published at HOST:PORT. Used by the links that keep a node connected
// to a remote actor (registrar, worker_link, cache_link); each retries with
// its own backoff when `fail` is called.

#include <caf/io/middleman.hpp>
#include <caf/node_id.hpp>

#include <chrono>
#include <set>
#include <string>

namespace dine {

/// Connects to the actor published at `host:port` and calls `ok(handle)`
/// with it cast to `Handle` (a null handle if none is published there), or
/// `fail(error)` if the node cannot be reached within 5 s.
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

} // namespace dine
