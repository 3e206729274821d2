#pragma once

// Reads the server's batch-size histogram with one `stats` request on a
// fresh connection after the run.

#include <cstdint>
#include <map>
#include <string>

#include "options.hpp"

namespace dine::bench {

/// The batch sizes of one model, summed over its batchers. Cumulative since
/// the node started.
struct batch_stats {
  bool have = false;                  ///< The stats op answered.
  std::map<uint64_t, uint64_t> sizes; ///< Batch size -> batches.

  /// Returns the mean batch size, or 0 without batches.
  double mean() const noexcept;
};

/// Fetches the batch sizes of `opts.model` from `opts.host:opts.port`.
/// Returns an empty string on success, else what failed.
std::string fetch_batch_stats(const options& opts, batch_stats& out);

} // namespace dine::bench
