#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/balancer.hpp"

namespace dine {

/// Batches planned for requests whose worker depends on their key.
struct key_batch_plan {
  /// One batch: a worker (index into the pool) and the requests (indices
  /// into the caller's list, ascending).
  struct batch {
    size_t worker = 0;
    std::vector<size_t> items;
  };

  std::vector<batch> batches;
  /// Requests whose worker has no free slot now (or no worker at all),
  /// ascending: they stay queued, in their order.
  std::vector<size_t> leftover;
};

/// Returns `pool` as a key-based strategy should see it for affinity: every
/// healthy worker with room, whatever its load (`outstanding` 0, `capacity`
/// 1). A key then maps to the same worker while the healthy members stay
/// the same, and moves only when its worker is down or ejected.
std::vector<worker_view> affinity_views(const std::vector<worker_view>& pool);

/// Plans batches for the requests with `key_hashes`: `strategy` (one with
/// `uses_key()`) picks each request's worker from `affinity_views(pool)`;
/// the requests of a worker form batches of at most `max_batch_size`, as
/// many as its free slots in `pool` allow; the rest are leftovers. If
/// `avoid` is not empty, `avoid[i]` names a worker (`worker_view::id`)
/// request i just failed on (0: none): it is picked as if that worker were
/// down, unless no other healthy worker is left.
key_batch_plan plan_key_batches(balancer& strategy,
                                const std::vector<worker_view>& pool,
                                const std::vector<uint64_t>& key_hashes,
                                size_t max_batch_size,
                                const std::vector<uint64_t>& avoid = {});

} // namespace dine
