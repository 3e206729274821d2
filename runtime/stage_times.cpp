#include "runtime/stage_times.hpp"

#include <algorithm>

namespace dine {

namespace {

/// Microseconds from `origin` to `t`, saturated to uint32.
int64_t micros(int64_t origin, int64_t t) {
  return std::min<int64_t>((t - origin) / 1000, UINT32_MAX);
}

} // namespace

void fill_stage_times(const stage_marks& m, int64_t end, timings& out) {
  if (m.read == 0)
    return;
  // The boundaries in path order, each at least the one before it; each
  // stage is the difference of two rounded boundaries, so they telescope
  // to the total without rounding drift.
  int64_t b[9] = {m.decoded,  m.cache_begin, m.cache_end, m.pre_end, m.sent,
                  m.received, m.post_begin,  m.post_end,  end};
  int64_t prev = m.read;
  int64_t us[9];
  for (int i = 0; i < 9; ++i) {
    prev = std::max(prev, b[i]);
    us[i] = micros(m.read, prev);
  }
  auto decoded = us[0], cache_begin = us[1], cache_end = us[2], pre_end = us[3],
       sent = us[4], received = us[5], post_begin = us[6], post_end = us[7],
       encoded = us[8];
  auto trip = received - sent;
  auto infer = std::min<int64_t>(out.infer_us, trip);
  out.read_us = static_cast<uint32_t>(decoded);
  out.preproc_us = static_cast<uint32_t>(pre_end - cache_end);
  out.cache_us = static_cast<uint32_t>(cache_end - cache_begin);
  out.queue_us =
      static_cast<uint32_t>((cache_begin - decoded) + (sent - pre_end));
  out.network_us = static_cast<uint32_t>(trip - infer);
  out.infer_us = static_cast<uint32_t>(infer);
  out.postproc_us = static_cast<uint32_t>(post_end - post_begin);
  out.write_us =
      static_cast<uint32_t>((post_begin - received) + (encoded - post_end));
  out.total_us = static_cast<uint32_t>(encoded);
}

} // namespace dine
