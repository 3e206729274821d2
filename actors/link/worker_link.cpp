#include "actors/link/worker_link.hpp"

#include <caf/actor_ostream.hpp>

#include <chrono>

namespace dine {

namespace {

using self_ptr = caf::stateful_actor<worker_link_state>*;

/// Registers `w` with the router; on success the link is up.
void register_worker(self_ptr self, const router_actor& router,
                     worker_info info, worker_actor w) {
  self->request(router, std::chrono::seconds{5}, register_atom::value, info, w)
      .then(
          [=](uint64_t) {
            auto& st = self->state;
            caf::aout(self) << "worker_link: registered " << info.name << " at "
                            << st.link.where() << std::endl;
            st.info = info;
            st.link.up(self, w);
          },
          [=](caf::error& err) {
            self->state.link.failed(
                self, "registering the worker at " + self->state.link.where() +
                          " failed: " + caf::to_string(err));
          });
}

} // namespace

caf::behavior worker_link(self_ptr self, node_config cfg, router_actor router,
                          std::string host, uint16_t port) {
  self->state.link = node_link<worker_actor>{"worker_link", std::move(host),
                                             port, backoff{cfg.reconnect_max}};
  self->set_down_handler([=](caf::down_msg& dm) {
    if (self->state.link.on_down(self, dm))
      self->state.draining = false;
  });
  self->send(self, join_atom::value);
  self->send(self, heartbeat_atom::value);
  return {
      [=](join_atom) {
        auto& link = self->state.link;
        link.connect<worker_endpoint_actor>(
            self, [=](worker_endpoint_actor ep) {
              self->request(ep, std::chrono::seconds{5}, join_atom::value,
                            caf::actor_cast<caf::actor>(self))
                  .then(
                      [=](worker_info& info, worker_actor& w) {
                        register_worker(self, router, std::move(info),
                                        std::move(w));
                      },
                      [=](caf::error& err) {
                        self->state.link.failed(
                            self, self->state.link.where() +
                                      " is not a dine worker endpoint: " +
                                      caf::to_string(err));
                      });
            });
      },
      [=](heartbeat_atom) {
        auto& st = self->state;
        if (st.link.handle() && !st.draining)
          self->request(st.link.handle(), cfg.heartbeat_interval * 2,
                        stats_atom::value)
              .then(
                  [=](heartbeat& hb) {
                    self->send(router, heartbeat_atom::value, std::move(hb));
                  },
                  [=](caf::error&) {}); // silence: the router counts it
        self->delayed_send(self, cfg.heartbeat_interval, heartbeat_atom::value);
      },
      [=](register_atom) {
        // The router removed the worker for silence: register it again (a
        // failure is the next heartbeat's to notice).
        auto& st = self->state;
        if (st.link.handle() && !st.draining)
          self->request(router, std::chrono::seconds{5}, register_atom::value,
                        st.info, st.link.handle())
              .then([](uint64_t) {}, [](caf::error&) {});
      },
      [=](drain_atom, worker_actor& w) -> caf::result<bool> {
        auto& st = self->state;
        if (st.link.handle() == w)
          st.draining = true;
        auto rp = self->make_response_promise<bool>();
        self->request(router, std::chrono::seconds{3}, drain_atom::value, w)
            .then([=](bool ok) mutable { rp.deliver(ok); },
                  [=](caf::error&) mutable { rp.deliver(false); });
        return rp;
      },
  };
}

} // namespace dine
