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
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_item& x) {
  return f(caf::meta::type_name("batch_item"), x.rid, x.inputs);
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
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_result& x) {
  return f(caf::meta::type_name("batch_result"), x.bid, x.worker, x.infer_us,
           x.items, x.code, x.message);
}

} // namespace dine
