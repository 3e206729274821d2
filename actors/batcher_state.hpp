#pragma once

#include <chrono>
#include <memory>
#include <unordered_map>
#include <vector>

#include "messages/interfaces.hpp"
#include "runtime/balancer.hpp"
#include "runtime/batch_queue.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// State of a batcher actor (see batcher.hpp).
struct batcher_state {
  using clock = std::chrono::steady_clock;
  using entry = batch_queue::entry;

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
    std::vector<entry> items;
    clock::time_point sent;
  };

  std::unique_ptr<batch_queue> queue;
  std::unique_ptr<balancer> strategy;
  model_config model;
  uint32_t max_retries = 2;
  std::chrono::milliseconds batch_timeout{10000};
  std::vector<slot> pool;
  std::unordered_map<uint64_t, in_flight> batches;
  uint64_t next_bid = 1;
  /// When the armed flush timer fires; `max()` if none is armed.
  clock::time_point timer_at = clock::time_point::max();
  batcher_stats stats;

  static inline const char* name = "dine.batcher";
};

} // namespace dine
