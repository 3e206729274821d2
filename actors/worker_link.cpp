#include "actors/worker_link.hpp"

#include <caf/actor_ostream.hpp>

#include "actors/connect_to.hpp"

namespace dine {

namespace {

using self_ptr = caf::stateful_actor<worker_link_state>*;

void retry_later(self_ptr self, const std::string& why = {}) {
  auto& st = self->state;
  st.connecting = false;
  if (!why.empty() && st.failures++ == 0) // once per outage
    caf::aout(self) << "worker_link: " << why << "; retrying" << std::endl;
  self->delayed_send(self, st.retry.next(), join_atom::value);
}

/// Registers `w` with the router; on success the link is connected.
void register_worker(self_ptr self, const router_actor& router,
                     worker_info info, worker_actor w,
                     const std::string& where) {
  self->request(router, std::chrono::seconds{5}, register_atom::value, info, w)
      .then(
          [=](uint64_t) {
            auto& st = self->state;
            if (st.worker != w)
              caf::aout(self) << "worker_link: registered " << info.name
                              << " at " << where << std::endl;
            st.worker = w;
            st.info = info;
            st.connecting = false;
            st.failures = 0;
            st.retry.reset();
          },
          [=](caf::error&) {
            auto& st = self->state;
            if (st.worker == w)
              return; // a re-registration failed: the heartbeat retries
            self->demonitor(w.address());
            retry_later(self);
          });
}

} // namespace

caf::behavior worker_link(self_ptr self, node_config cfg, router_actor router,
                          std::string host, uint16_t port) {
  auto where = host + ":" + std::to_string(port);
  self->state.retry = backoff{cfg.reconnect_max};
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (!st.worker || dm.source != st.worker.address())
      return;
    caf::aout(self) << "worker_link: " << st.info.name << " at " << where
                    << " lost (" << caf::to_string(dm.reason)
                    << "), reconnecting" << std::endl;
    st.worker = nullptr;
    st.draining = false;
    st.retry.reset();
    retry_later(self);
  });
  self->send(self, join_atom::value);
  self->send(self, heartbeat_atom::value);
  return {
      [=](join_atom) {
        auto& st = self->state;
        if (st.worker || st.connecting)
          return;
        st.connecting = true;
        connect_to<worker_endpoint_actor>(
            self, host, port,
            [=](worker_endpoint_actor ep) {
              if (!ep) {
                retry_later(self, where + " publishes no actor");
                return;
              }
              self->request(ep, std::chrono::seconds{5}, join_atom::value,
                            caf::actor_cast<caf::actor>(self))
                  .then(
                      [=](worker_info& info, worker_actor& w) {
                        self->monitor(w);
                        register_worker(self, router, info, w, where);
                      },
                      [=](caf::error& err) {
                        retry_later(self, where +
                                              " is not a dine worker "
                                              "endpoint: " +
                                              caf::to_string(err));
                      });
            },
            [=](const caf::error& err) {
              retry_later(self,
                          "cannot reach " + where + ": " + caf::to_string(err));
            });
      },
      [=](heartbeat_atom) {
        auto& st = self->state;
        if (st.worker && !st.draining)
          self->request(st.worker, cfg.heartbeat_interval * 2,
                        stats_atom::value)
              .then(
                  [=](heartbeat& hb) {
                    self->send(router, heartbeat_atom::value, std::move(hb));
                  },
                  [=](caf::error&) {}); // silence: the router counts it
        self->delayed_send(self, cfg.heartbeat_interval, heartbeat_atom::value);
      },
      [=](register_atom) {
        // The router removed the worker for silence: register it again.
        auto& st = self->state;
        if (st.worker && !st.draining)
          register_worker(self, router, st.info, st.worker, where);
      },
      [=](drain_atom, worker_actor& w) -> caf::result<bool> {
        auto& st = self->state;
        if (st.worker == w)
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
