#include "actors/link/registrar.hpp"

#include <caf/stateful_actor.hpp>

#include <chrono>

#include "runtime/metrics_hub.hpp"

namespace dine {

caf::behavior registrar(caf::stateful_actor<registrar_state>* self,
                        node_config cfg, worker_info info, worker_actor worker,
                        registered_fn on_registered) {
  self->state.link = node_link<router_actor>{
      "registrar", cfg.join_host, cfg.join_port, backoff{cfg.reconnect_max}};
  self->set_down_handler(
      [=](caf::down_msg& dm) { self->state.link.on_down(self, dm); });
  self->send(self, join_atom::value);
  self->send(self, heartbeat_atom::value);
  return {
      [=](join_atom) {
        if (!self->state.link.targeted())
          return; // waits for `(leader)` from the leader watch
        self->state.link.connect<router_actor>(self, [=](router_actor r) {
          self->request(r, std::chrono::seconds{5}, register_atom::value, info,
                        worker)
              .then(
                  [=](uint64_t id) {
                    self->state.link.up(self, r);
                    if (on_registered)
                      on_registered(id);
                  },
                  [=](caf::error& err) {
                    self->state.link.failed(
                        self, "registering with " + self->state.link.where() +
                                  " failed: " + caf::to_string(err));
                  });
        });
      },
      [=](leader_atom, const std::string& host, uint16_t port) {
        // The etcd cluster's leader (actors/link/leader_watch.hpp).
        if (!self->state.link.state().stopped())
          self->state.link.retarget(self, host, port);
      },
      [=](register_atom) {
        // The router lost track of us (missed heartbeats): register again.
        auto& link = self->state.link;
        if (!link.handle() || link.state().stopped())
          return;
        self->request(link.handle(), std::chrono::seconds{5},
                      register_atom::value, info, worker)
            .then(
                [=](uint64_t id) {
                  if (on_registered)
                    on_registered(id);
                },
                [=](caf::error&) {});
      },
      [=](drain_atom) -> caf::result<bool> {
        auto& link = self->state.link;
        link.stop();
        if (!link.handle())
          return false;
        auto rp = self->make_response_promise<bool>();
        self->request(link.handle(), std::chrono::seconds{3}, drain_atom::value,
                      worker)
            .then([=](bool ok) mutable { rp.deliver(ok); },
                  [=](caf::error&) mutable { rp.deliver(false); });
        return rp;
      },
      [=](heartbeat_atom) {
        auto& st = self->state;
        if (st.link.handle()) {
          heartbeat hb;
          hb.name = info.name;
          hb.seq = ++st.seq;
          auto usage = read_process_usage();
          hb.cpu_us = static_cast<uint64_t>(usage.cpu_seconds * 1e6);
          hb.rss_bytes = usage.rss_bytes;
          hb.restarts = supervisor_restarts();
          self->send(st.link.handle(), heartbeat_atom::value, std::move(hb));
        }
        self->delayed_send(self, cfg.heartbeat_interval, heartbeat_atom::value);
      },
  };
}

} // namespace dine
