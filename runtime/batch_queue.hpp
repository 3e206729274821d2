#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "messages/client.hpp"

namespace dine {

/// Batching limits of one model (Triton's dynamic batcher names in
/// brackets).
struct batch_limits {
  uint32_t max_batch_size = 64;           ///< [max_batch_size]
  std::chrono::microseconds max_delay{0}; ///< [max_queue_delay_microseconds]
  std::vector<uint32_t> preferred_sizes;  ///< [preferred_batch_size]
  uint32_t max_queue = 100000;            ///< Queued requests at most.
  bool batchable = true;                  ///< false: batches of one.
};

/// The queue of one batcher and every decision about it: when a batch
/// leaves, how large it is, which requests it takes (highest priority
/// first, FIFO within a priority), which requests expired, and when to
/// look again. Time is passed in, so tests drive it with a fake clock.
class batch_queue {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// A request waiting in the queue (or riding in a batch).
  struct entry {
    client_request req; ///< `req.id` is the coordinator's request id.
    time_point enqueued;
    time_point deadline;
    uint32_t attempts = 0;
    /// The worker (pool id) its last attempt failed on, 0 if none: a
    /// key-based strategy picks another one for the retry if it can.
    uint64_t avoid = 0;
  };

  explicit batch_queue(batch_limits limits);

  /// Adds a request. Returns false (and leaves `e` untouched) when the
  /// queue is full: the caller answers `overloaded`.
  bool push(entry& e);

  /// Puts requests of a failed batch back in front of their priority lane.
  void push_front(std::vector<entry>&& es);

  /// Removes and returns every request whose deadline is at or before
  /// `now`: the caller answers `deadline_exceeded` without running them.
  std::vector<entry> expire(time_point now);

  /// Returns how many requests a batch formed now should take, 0 = wait.
  /// A batch leaves when a worker slot is free and: `max_batch_size` are
  /// queued, or a preferred size can be formed, or the oldest request
  /// waited `max_delay`, or the earliest deadline in the queue is due.
  size_t ready(time_point now, bool slot_free) const;

  /// Removes `n` requests in batch order: highest priority first.
  std::vector<entry> take(size_t n);

  /// Returns when `ready` may change without new input (the oldest's delay
  /// or the earliest deadline), or `time_point::max()` when empty.
  time_point next_wakeup() const;

  size_t size() const noexcept { return size_; }

  bool empty() const noexcept { return size_ == 0; }

  /// Removes everything (e.g. no worker left).
  std::vector<entry> drain();

  const batch_limits& limits() const noexcept { return limits_; }

private:
  time_point oldest() const;
  time_point earliest_deadline() const;

  batch_limits limits_;
  /// Lanes by priority, highest first; each lane is FIFO. Empty lanes are
  /// removed, except the default one (priority 0), which is reused.
  std::map<int32_t, std::deque<entry>, std::greater<int32_t>> lanes_;
  size_t size_ = 0;
};

} // namespace dine
