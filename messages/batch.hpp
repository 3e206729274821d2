#pragma once

// Messages between a batcher and a worker: one batch of requests for one
// model and the per-item results.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace dine {

/// One request inside a batch.
struct batch_item {
  uint64_t rid = 0;            ///< The coordinator's request id.
  std::vector<uint8_t> inputs; ///< Raw msgpack bytes.
  /// Generative models: how long the request may wait for KV blocks (its
  /// deadline's remainder when sent), and whether its tokens stream.
  uint32_t wait_ms = 0;
  bool stream = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_item& x) {
  return f(caf::meta::type_name("batch_item"), x.rid, x.inputs, x.wait_ms,
           x.stream);
}

/// A batch of compatible requests for one model, run in one invocation.
struct batch {
  uint64_t bid = 0; ///< Unique per batcher.
  std::string model;
  uint32_t version = 0;
  std::vector<batch_item> items;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch& x) {
  return f(caf::meta::type_name("batch"), x.bid, x.model, x.version, x.items);
}

/// The result of one item: outputs or a per-item error.
struct item_result {
  uint64_t rid = 0;
  uint8_t code = 0; ///< An `errc`; 0 = ok.
  std::string message;
  std::vector<uint8_t> outputs;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, item_result& x) {
  return f(caf::meta::type_name("item_result"), x.rid, x.code, x.message,
           x.outputs);
}

/// The results of one batch, one per item, in the batch's order.
/// A nonzero `code` (an `errc`) fails the whole batch: `worker_failed`
/// means "retry elsewhere", `unavailable` means "this worker no longer
/// serves the model" (its session supervisor gave up).
struct batch_result {
  uint64_t bid = 0;
  std::string worker;
  uint32_t infer_us = 0;
  std::vector<item_result> items;
  uint8_t code = 0;
  std::string message;
  /// Generative models: the session's KV pool and sequences after the step
  /// that ended this batch (docs/design.md, "Streaming").
  uint64_t kv_blocks_total = 0;
  uint64_t kv_blocks_used = 0;
  uint32_t seqs_running = 0;
  uint32_t seqs_waiting = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_result& x) {
  return f(caf::meta::type_name("batch_result"), x.bid, x.worker, x.infer_us,
           x.items, x.code, x.message, x.kv_blocks_total, x.kv_blocks_used,
           x.seqs_running, x.seqs_waiting);
}

/// What one decode step produced for one streamed request: travels
/// session -> worker_supervisor -> batcher -> coordinator, one
/// `std::vector<stream_chunk>` per step and hop.
struct stream_chunk {
  uint64_t bid = 0;             ///< The batcher's batch id.
  uint64_t rid = 0;             ///< The coordinator's request id.
  uint32_t tokens = 0;          ///< Output tokens in this chunk.
  std::vector<uint8_t> outputs; ///< msgpack `{text, tokens}`.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_chunk& x) {
  return f(caf::meta::type_name("stream_chunk"), x.bid, x.rid, x.tokens,
           x.outputs);
}

} // namespace dine
