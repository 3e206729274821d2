#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "messages/interfaces.hpp"
#include "runtime/balancer.hpp"
#include "runtime/batch_policy.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// State of a batcher actor (see batcher.hpp).
struct batcher_state {
  using clock = std::chrono::steady_clock;

  /// A request waiting in the queue or riding in a batch.
  struct pending {
    client_request req; ///< `req.id` is the coordinator's request id.
    clock::time_point enqueued;
    uint32_t attempts = 0;
  };

  /// One worker of the pool.
  struct slot {
    worker_actor hdl;
    std::string name;
    worker_stats stats;
    uint32_t capacity = 4;
  };

  /// A batch sent and not answered yet.
  struct in_flight {
    caf::actor_addr worker;
    std::vector<pending> items;
    clock::time_point sent;
  };

  std::unique_ptr<batch_policy> policy;
  std::unique_ptr<balancer> strategy;
  model_config model;
  uint32_t max_retries = 2;
  std::chrono::milliseconds batch_timeout{10000};
  std::deque<pending> queue;
  std::vector<slot> pool;
  std::unordered_map<uint64_t, in_flight> batches;
  uint64_t next_bid = 1;
  bool timer_armed = false;
  batcher_stats stats;

  static inline const char* name = "dine.batcher";
};

} // namespace dine
