#pragma once

// Stage timings of a reply (docs/protocol.md, "Timings"): the connection
// stamps the read and the decode of a frame, the coordinator the cache
// lookup and the pool stages of a pipeline, the batcher the trip to the
// worker; when the connection encodes
// the reply it turns those marks into per-stage microseconds that add up
// to `total_us` exactly.

#include <chrono>
#include <cstdint>

#include "messages/client.hpp"

namespace dine {

/// Returns the current mark: nanoseconds of `std::chrono::steady_clock`.
inline int64_t mark_now() noexcept {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch())
      .count();
}

/// Fills the stage fields and `total_us` of `out` from `m` and `end` (the
/// mark at which the reply is encoded); `out.infer_us` (the worker's own
/// figure) is read and clamped to the trip to the worker. Marks that were
/// not reached (0) or lie before the previous one (a coalesced follower
/// shares its leader's trip) count as the previous one, so every stage is
/// >= 0 and the stages sum to `total_us`. Leaves `out` untouched if
/// `m.read` is 0 (a reply to no read frame). `ttft_us` and `tpot_us` are
/// not touched.
void fill_stage_times(const stage_marks& m, int64_t end, timings& out);

} // namespace dine
