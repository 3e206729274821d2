#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "load_loop.hpp"
#include "options.hpp"
#include "server_stats.hpp"

namespace dine::bench {

/// Describes the measured phase for printing.
struct report_context {
  const options* opts = nullptr;
  size_t body_bytes = 0;                ///< Size of one request body as sent.
  const batch_stats* batches = nullptr; ///< Server batch sizes, if read.
};

/// Returns the result as one JSON object: requests, ok, errors {code: n},
/// seconds, rps, latency_us {p50, p90, p99, p999, max, mean}, lost, late,
/// mode ("open" with rate, seed and dropped_by_client, or "closed"), the
/// run's shape, the client's CPU use and, when read, the server's
/// batch_sizes {"size": n} (since the node started) and mean_batch.
nlohmann::ordered_json to_json(const report_context& ctx, const run_result& r);

/// Prints the result for humans.
void print_text(std::ostream& out, const report_context& ctx,
                const run_result& r);

} // namespace dine::bench
