#pragma once

// The [model.NAME] section: the settings of one model and its key table
// (docs/operations.md, "Per-model keys").

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "messages/fault.hpp"
#include "runtime/config_option.hpp"
#include "runtime/pipeline_spec.hpp"
#include "runtime/routing_config.hpp"

namespace dine {

/// Settings of one model: how the coordinator batches it and which backend
/// a worker runs for it.
struct model_config {
  std::string name;
  std::string backend = "echo"; ///< echo | cost | sleep | tokens | transformer
  uint32_t version = 1;
  uint32_t max_batch_size = 64;
  std::chrono::microseconds max_delay{0};
  std::vector<uint32_t> preferred_sizes; ///< Batch sizes formed at once.
  uint32_t max_queue = 100000; ///< Queued requests before `overloaded`.
  bool batchable = true;       ///< false: one request per invocation.
  bool cacheable = true;       ///< Results may be cached and coalesced.
  uint32_t cache_ttl_ms = 0;   ///< Cache TTL; 0 = the cache default.
  fault_spec fault;            ///< Injected at start (off by default).
  uint32_t fixed_us = 2000;    ///< cost/sleep: time per invocation.
  uint32_t per_item_us = 50;   ///< cost/sleep: time per item.
  model_routing routing;       ///< Shards, balancing, schema, timeout.
  // Generative backends (`transformer`, docs/models.md).
  std::string checkpoint;                ///< llama2.c checkpoint file.
  std::string tokenizer;                 ///< llama2.c tokenizer.bin file.
  uint64_t kv_cache_bytes = 64ull << 20; ///< KV pool size.
  uint32_t kv_block_size = 16;           ///< Tokens per KV block.
  uint32_t max_running = 64;             ///< Sequences per decode step.
  uint32_t threads = 1;                  ///< Compute threads of one step.
  /// Pre- and postprocessing steps and where each runs (`preproc`,
  /// `postproc`; docs/operations.md, "Pipelines").
  pipeline_spec pipeline;
};

/// The one table of the [model.NAME] section (`model.NAME.KEY` on the
/// command line): its own rows, the routing rows and the generative rows.
const config_table<model_config>& model_options();

/// Returns the models every node knows without configuration: `echo`,
/// `cost`, `sleep` and `tokens`.
std::map<std::string, model_config> builtin_models();

/// Checks every model of `table` across keys (generative files, routing).
caf::error validate_models(const std::map<std::string, model_config>& table);

/// Renders `[model.NAME]` sections of every model of `table`.
std::string model_config_text(const std::map<std::string, model_config>& table);

} // namespace dine
