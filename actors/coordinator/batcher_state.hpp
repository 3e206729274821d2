#pragma once

#include <chrono>
#include <memory>
#include <unordered_map>
#include <vector>

#include "messages/interfaces.hpp"
#include "runtime/balancer.hpp"
#include "runtime/batch_queue.hpp"
#include "runtime/ewma.hpp"
#include "runtime/node_config.hpp"
#include "runtime/outlier_detector.hpp"
#include "runtime/retry_policy.hpp"

namespace dine {

/// State of a batcher actor (see batcher.hpp).
struct batcher_state {
  using clock = std::chrono::steady_clock;
  using entry = batch_queue::entry;

  /// One worker of the pool.
  struct slot {
    worker_actor hdl;
    uint64_t id = 0; ///< `hash_key` of its name: balancer and detector id.
    worker_stats stats;
    uint32_t capacity = 4;
    ewma latency; ///< Of its batches, in microseconds.
  };

  /// A batch sent and not answered yet.
  struct in_flight {
    caf::actor_addr worker;
    uint64_t worker_id = 0;
    std::vector<entry> items;
    std::vector<bool> answered; ///< Expired while in flight: replied.
    /// Chunks of it were forwarded: a retry would send tokens twice, so a
    /// lost worker ends it with `worker_lost` instead.
    std::vector<bool> streamed;
    clock::time_point sent;
  };

  coordinator_actor coord;
  router_actor router;
  std::unique_ptr<batch_queue> queue;
  /// Retry and give-up for requests of lost batches: at most
  /// `max_retries` re-dispatches each, and in all at most 20 % of first
  /// attempts plus 32 per second.
  retry_policy retries;
  std::unique_ptr<balancer> strategy;
  std::unique_ptr<outlier_detector> outliers;
  model_config model;
  uint32_t version = 1;
  uint32_t shard = 0;
  bool generative = false; ///< Its model's sessions are gen_sessions.
  std::chrono::milliseconds batch_timeout{10000};
  std::vector<slot> pool;
  std::unordered_map<uint64_t, in_flight> batches;
  uint64_t next_bid = 1;
  uint64_t joins = 0; ///< Workers ever added (see the router's reroute).
  /// When the armed flush timer fires; `max()` if none is armed.
  clock::time_point timer_at = clock::time_point::max();
  batcher_stats stats;
  /// Requests cancelled before they left the queue: never sent; dropped
  /// from here after a minute (they may have been queued elsewhere).
  std::unordered_map<uint64_t, clock::time_point> cancelled;

  static inline const char* name = "dine.batcher";
};

/// The batcher's self pointer.
using batcher_self = batcher_actor::stateful_pointer<batcher_state>;

/// Forms and sends batches while the queue says so and arms the flush
/// timer; hands the queue back to the router when the pool is empty
/// (actors/batcher_flush.cpp).
void try_flush(batcher_self self);

/// Returns the pool slot of worker `a`, or null (actors/batcher.cpp).
batcher_state::slot* find_slot(batcher_state& st, const caf::actor_addr& a);

/// Forwards a worker's stream chunks of requests still in flight here to
/// the coordinator, marking them streamed; chunks of abandoned batches
/// (retried elsewhere, expired, cancelled) are dropped: a token never
/// reaches a client twice (actors/batcher_stream.cpp).
void forward_chunks(batcher_self self, std::vector<stream_chunk>& chunks);

/// Stops request `rid`: on its worker if it runs there, else it never
/// leaves the queue. Its final reply is the coordinator's.
void cancel_request(batcher_self self, uint64_t rid);

} // namespace dine
