#include "actors/link/cache_link.hpp"

namespace dine {

caf::behavior cache_link(caf::stateful_actor<cache_link_state>* self,
                         node_config cfg, coordinator_actor coord,
                         cache_actor initial, std::string host, uint16_t port) {
  auto& link = self->state.link;
  link = node_link<cache_actor>{"cache_link", std::move(host), port,
                                backoff{cfg.reconnect_max}};
  // The coordinator monitors the cache, too: it sees it go down itself.
  self->set_down_handler(
      [=](caf::down_msg& dm) { self->state.link.on_down(self, dm); });
  if (initial)
    link.up(self, std::move(initial)); // connected by the node at start-up
  else
    self->send(self, join_atom::value);
  return {
      [=](join_atom) {
        self->state.link.connect<cache_actor>(self, [=](cache_actor c) {
          self->state.link.up(self, c);
          self->send(coord, std::move(c));
        });
      },
  };
}

} // namespace dine
