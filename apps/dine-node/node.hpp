#pragma once

// The processes of one dine-node: which actors each role starts, in which
// order, and how the node drains and stops.

#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "messages/interfaces.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// The top-level actors of a node and their lifecycle.
class node {
public:
  node(caf::actor_system& sys, node_config cfg);

  /// Starts the roles of the config. Returns a non-empty error message if a
  /// port could not be bound.
  std::string start();

  /// SIGTERM/SIGINT: workers deregister and finish their batches; a
  /// coordinator stops accepting, answers new requests `shutting_down`,
  /// and waits until every accepted request got its reply. Bounded by
  /// `drain-timeout-ms`. Returns whether everything drained in time.
  bool drain();

  /// Stops every top-level actor, last started first.
  void stop();

private:
  std::string start_cache();
  std::string start_coordinator();
  std::string start_workers();
  std::string publish_worker(const worker_info& info, const worker_actor& w);
  void write_ready(const std::string& extra);

  caf::actor_system& sys_;
  node_config cfg_;
  caf::scoped_actor self_;
  router_actor router_;
  coordinator_actor coordinator_;
  caf::actor acceptor_;
  cache_actor cache_;
  std::vector<worker_actor> workers_;
  std::vector<caf::actor> registrars_;
  std::vector<caf::actor> roots_; ///< Stopped in reverse order.
  std::string ready_;             ///< JSON fields of the ready file.
};

} // namespace dine
