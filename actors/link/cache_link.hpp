#pragma once

// cache_link: a coordinator's connection to a shared cache node.
//
// Interface: untyped; its own timer `(join)` (connect).
// Connects through a `node_link` (actors/node_link.hpp) to the cache actor a
// `--role=cache` node published at HOST:PORT (`cache-node` on the
// coordinator) and hands it to the coordinator, which looks requests up in
// it and treats lookups as misses while it has none.
// Supervised by: the node (a root: stopped with the node).
// Monitors: the cache. When the cache node is lost (process gone: at once;
// frozen: after the middleman's connection timeout) the coordinator answers
// lookups as misses, and the link reconnects with the reconnect backoff
// (20 ms doubling, capped at `reconnect-max-ms`; every failed attempt
// logged with the next delay) until the cache node is back, then hands the
// coordinator the new handle. A cache node that is down when the
// coordinator starts is handled the same way.

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <string>

#include "actors/link/node_link.hpp"
#include "messages/interfaces.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// State of a cache link.
struct cache_link_state {
  node_link<cache_actor> link; ///< To the cache node.

  static inline const char* name = "dine.cache_link";
};

/// Behavior of a cache link to `host:port` for `coord`. `initial` is a
/// cache handle the node already connected to at start-up, or null.
caf::behavior cache_link(caf::stateful_actor<cache_link_state>* self,
                         node_config cfg, coordinator_actor coord,
                         cache_actor initial, std::string host, uint16_t port);

} // namespace dine
