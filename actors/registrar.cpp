#include "actors/registrar.hpp"

#include <caf/stateful_actor.hpp>

#include "actors/connect_to.hpp"

namespace dine {

namespace {

using self_ptr = caf::stateful_actor<registrar_state>*;

void retry_later(self_ptr self) {
  auto& st = self->state;
  st.connecting = false;
  if (st.draining)
    return;
  self->delayed_send(self, st.retry.next(), join_atom::value);
}

} // namespace

caf::behavior registrar(self_ptr self, node_config cfg, worker_info info,
                        worker_actor worker, registered_fn on_registered) {
  self->state.retry = backoff{cfg.reconnect_max};
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.router && dm.source == st.router.address()) {
      st.router = nullptr;
      st.retry.reset();
      retry_later(self);
    }
  });
  self->send(self, join_atom::value);
  self->send(self, heartbeat_atom::value);
  return {
      [=](join_atom) {
        auto& st = self->state;
        if (st.router || st.connecting)
          return;
        st.connecting = true;
        connect_to<router_actor>(
            self, cfg.join_host, cfg.join_port,
            [=](router_actor r) {
              if (!r) {
                retry_later(self);
                return;
              }
              self->monitor(r);
              self->request(r, std::chrono::seconds{5}, register_atom::value,
                            info, worker)
                  .then(
                      [=](uint64_t id) {
                        auto& st = self->state;
                        st.router = r;
                        st.connecting = false;
                        st.retry.reset();
                        if (on_registered)
                          on_registered(id);
                      },
                      [=](caf::error&) { retry_later(self); });
            },
            [=](const caf::error&) { retry_later(self); });
      },
      [=](register_atom) {
        // The router lost track of us (missed heartbeats): register again.
        auto& st = self->state;
        if (!st.router || st.draining)
          return;
        self->request(st.router, std::chrono::seconds{5}, register_atom::value,
                      info, worker)
            .then(
                [=](uint64_t id) {
                  if (on_registered)
                    on_registered(id);
                },
                [=](caf::error&) {});
      },
      [=](drain_atom) -> caf::result<bool> {
        auto& st = self->state;
        st.draining = true;
        if (!st.router)
          return false;
        auto rp = self->make_response_promise<bool>();
        self->request(st.router, std::chrono::seconds{3}, drain_atom::value,
                      worker)
            .then([=](bool ok) mutable { rp.deliver(ok); },
                  [=](caf::error&) mutable { rp.deliver(false); });
        return rp;
      },
      [=](heartbeat_atom) {
        auto& st = self->state;
        if (st.router) {
          heartbeat hb;
          hb.name = info.name;
          hb.seq = ++st.seq;
          self->send(st.router, heartbeat_atom::value, std::move(hb));
        }
        self->delayed_send(self, cfg.heartbeat_interval, heartbeat_atom::value);
      },
  };
}

} // namespace dine
