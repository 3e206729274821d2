#include "actors/cache_link.hpp"

#include <caf/actor_ostream.hpp>

#include "actors/connect_to.hpp"

namespace dine {

namespace {

using self_ptr = caf::stateful_actor<cache_link_state>*;

void retry_later(self_ptr self, const std::string& why) {
  auto& st = self->state;
  st.connecting = false;
  if (st.failures++ == 0) // once per outage
    caf::aout(self) << "cache_link: " << why << "; retrying" << std::endl;
  self->delayed_send(self, st.retry.next(), join_atom::value);
}

/// Starts using `c`: monitors it and hands it to the coordinator.
void connected(self_ptr self, const coordinator_actor& coord, cache_actor c,
               const std::string& where) {
  auto& st = self->state;
  if (st.failures > 0)
    caf::aout(self) << "cache_link: connected to the cache node at " << where
                    << std::endl;
  st.cache = c;
  st.connecting = false;
  st.failures = 0;
  st.retry.reset();
  self->monitor(c);
  self->send(coord, std::move(c));
}

} // namespace

caf::behavior cache_link(self_ptr self, node_config cfg,
                         coordinator_actor coord, cache_actor initial,
                         std::string host, uint16_t port) {
  auto where = host + ":" + std::to_string(port);
  self->state.retry = backoff{cfg.reconnect_max};
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (!st.cache || dm.source != st.cache.address())
      return;
    st.cache = nullptr; // the coordinator saw it go down, too
    st.retry.reset();
    retry_later(self, "the cache node at " + where + " is gone (" +
                          caf::to_string(dm.reason) + ")");
  });
  if (initial) {
    self->state.cache = initial;
    self->monitor(initial);
  } else {
    self->send(self, join_atom::value);
  }
  return {
      [=](join_atom) {
        auto& st = self->state;
        if (st.cache || st.connecting)
          return;
        st.connecting = true;
        connect_to<cache_actor>(
            self, host, port,
            [=](cache_actor c) {
              if (!c)
                retry_later(self, where + " publishes no actor");
              else
                connected(self, coord, std::move(c), where);
            },
            [=](const caf::error& err) {
              retry_later(self, "cannot reach the cache node at " + where +
                                    ": " + caf::to_string(err));
            });
      },
  };
}

} // namespace dine
