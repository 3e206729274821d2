#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <caf/expected.hpp>

#include "messages/batch.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// A model implementation behind one interface: takes a batch and produces
/// one result per input, in order. Generative models will add a step-wise
/// variant (one token per call, requests joining and leaving between
/// steps); single-shot models implement `run` only.
class model_backend {
public:
  virtual ~model_backend();

  /// Runs one batch, filling `out[i]` for `in[i]` (rid copied by the
  /// caller). A per-item failure sets `out[i].code` and `message`. `in`
  /// belongs to the backend: it may move the inputs out.
  virtual void run(std::vector<batch_item>& in,
                   std::vector<item_result>& out) = 0;

  /// Simulated device time the results wait before delivery (the `sleep`
  /// model); zero for models that compute in `run`.
  virtual std::chrono::microseconds delay(size_t batch_size) const;
};

/// Creates the backend `cfg.backend` names.
caf::expected<std::unique_ptr<model_backend>>
make_backend(const model_config& cfg);

/// The checkable function `cost` and `sleep` compute of each input: FNV-1a
/// (64 bit) of the input's msgpack bytes. Their output is `{"fnv1a": h}`.
/// An input map with the key `invalid` gets a per-item `invalid_input`
/// error instead, without failing the rest of its batch.
uint64_t fnv1a(const uint8_t* data, size_t size);

/// The outputs `cost` and `sleep` give for an input (its msgpack bytes):
/// the msgpack bytes of `{"fnv1a": fnv1a(data, size)}`. Tests and
/// dine-chaos check every reply against it.
std::vector<uint8_t> fnv1a_outputs(const uint8_t* data, size_t size);

} // namespace dine
