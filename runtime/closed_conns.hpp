#pragma once

// closed_conns: the client connections the coordinator has heard close,
// so that request batches they sent before closing, still queued in the
// coordinator's mailbox, are dropped instead of run (nobody reads their
// replies). A connection announces its close with a high-priority
// `cancel` that overtakes its own queued batches (docs/design.md,
// "Connections that close"). Actor ids are never reused, so an entry can
// only match batches of that one connection; entries are forgotten after
// `ttl` (a batch queued longer than that runs as before) and the oldest
// go first above `max_entries`, so the set stays bounded under churn.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_set>
#include <utility>

namespace dine {

/// A bounded, expiring set of closed connection ids.
class closed_conns {
public:
  using clock = std::chrono::steady_clock;

  closed_conns(clock::duration ttl, size_t max_entries)
      : ttl_(ttl), max_(max_entries) {}

  /// Remembers that connection `id` closed at `now`.
  void add(uint64_t id, clock::time_point now);

  /// Returns whether connection `id` is known to have closed.
  bool contains(uint64_t id) const { return ids_.count(id) > 0; }

  /// Forgets entries older than the ttl.
  void expire(clock::time_point now);

  /// Returns whether no connection is remembered.
  bool empty() const noexcept { return ids_.empty(); }

  /// Returns the number of connections remembered.
  size_t size() const noexcept { return ids_.size(); }

private:
  void pop();

  clock::duration ttl_;
  size_t max_;
  std::unordered_set<uint64_t> ids_;
  std::deque<std::pair<clock::time_point, uint64_t>> order_;
};

} // namespace dine
