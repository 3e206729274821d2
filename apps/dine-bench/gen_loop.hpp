#pragma once

// The generation mode of dine-bench (`--max-tokens`): one blocking
// connection per thread, one generation in flight on each (concurrency =
// --connections). Measures output tokens/s, time to first token and, with
// --stream, the latency between chunks (inter-token latency).

#include <ostream>

#include "options.hpp"

namespace dine::bench {

/// Runs the generation benchmark and prints its result to `out`. Returns
/// the process exit code.
int run_generation(const options& opts, std::ostream& out);

} // namespace dine::bench
