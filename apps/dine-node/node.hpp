#pragma once

// The processes of one dine-node: which actors each role starts, in which
// order, and how the node drains and stops.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/supervision/supervisor.hpp"
#include "messages/interfaces.hpp"
#include "runtime/api_keys.hpp"
#include "runtime/front_stats.hpp"
#include "runtime/leader_gate.hpp"
#include "runtime/log_sink.hpp"
#include "runtime/metrics_hub.hpp"
#include "runtime/metrics_server.hpp"
#include "runtime/node_config.hpp"

namespace dine::http {
class server;
} // namespace dine::http

namespace dine {

/// The top-level actors of a node and their lifecycle.
class node {
public:
  node(caf::actor_system& sys, node_config cfg);

  ~node();

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

  /// Returns a non-empty reason once a part of the node that cannot be
  /// restarted in place (router, coordinator, client listener) or the
  /// root supervisor terminated: the process should exit.
  std::string failed() const;

private:
  /// Returns whether this coordinator uses a `cache` role node's cache.
  bool uses_cache_node() const {
    return cfg_.coordinator && cfg_.cache.enabled && !cfg_.cache_role &&
           !cfg_.cache.node_host.empty();
  }

  std::string start_metrics();
  std::string start_cache();
  std::string start_coordinator();
  std::string start_http();
  std::string start_workers();
  std::string publish_worker(const worker_info& info, const worker_actor& w);
  std::string start_tree();
  void start_elector(uint16_t cluster_port, uint16_t client_port);
  void start_leader_watch();
  void watch(const caf::actor& a, const std::string& what);
  void write_ready(const std::string& extra);

  caf::actor_system& sys_;
  node_config cfg_;
  caf::scoped_actor self_;
  router_actor router_;
  coordinator_actor coordinator_;
  caf::actor acceptor_;
  /// With `etcd`: the leadership gate of the client port, the elector that
  /// writes it (coordinators) or the leader watch (workers).
  std::shared_ptr<leader_gate> gate_;
  caf::actor elector_;
  caf::actor http_relay_;
  std::shared_ptr<http::server> http_; ///< The HTTP front door, if on.
  /// The API keys of the client and HTTP ports; null without a key file.
  std::shared_ptr<const api_keys> keys_;
  /// Refusal counters of the client port and the HTTP port.
  std::shared_ptr<front_stats> front_stats_ = std::make_shared<front_stats>();
  cache_actor cache_;
  std::vector<worker_actor> workers_;
  std::vector<caf::actor> registrars_;
  std::vector<caf::actor> roots_; ///< Stopped in reverse order.
  /// The current incarnations of supervised actors, written by the child
  /// factories (on the supervisor's thread), read by drain().
  struct slots {
    std::mutex mtx;
    std::vector<worker_actor> workers;
    std::vector<caf::actor> registrars;
  };
  std::shared_ptr<slots> slots_ = std::make_shared<slots>();
  std::vector<supervised_child> children_; ///< Of the root supervisor.
  caf::actor root_;                        ///< The node's root supervisor.
  std::shared_ptr<coordinator_actor> coordinator_slot_; ///< For the cache.
  std::shared_ptr<std::string> failure_ = std::make_shared<std::string>();
  std::shared_ptr<std::mutex> failure_mtx_ = std::make_shared<std::mutex>();
  std::string ready_; ///< JSON fields of the ready file.
  /// The process's metrics and their HTTP endpoint (`metrics-port`).
  std::shared_ptr<metrics_hub> metrics_;
  std::unique_ptr<metrics_server> metrics_server_;
  /// Request log lines (stdout), written by a thread of their own.
  std::shared_ptr<log_sink> log_;
};

} // namespace dine
