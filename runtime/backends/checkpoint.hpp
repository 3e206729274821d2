#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/expected.hpp>

namespace dine {

/// The shape of a Llama-style decoder, as llama2.c's checkpoint header
/// states it (docs/models.md).
struct model_shape {
  int32_t dim = 0;        ///< Width of the residual stream.
  int32_t hidden_dim = 0; ///< Width of the SwiGLU feed-forward layer.
  int32_t n_layers = 0;
  int32_t n_heads = 0;
  int32_t n_kv_heads = 0; ///< Fewer than n_heads: grouped-query attention.
  int32_t vocab_size = 0;
  int32_t seq_len = 0;    ///< The context window in tokens.
  bool shared_cls = true; ///< Classifier tied to the token embedding.

  int32_t head_size() const { return dim / n_heads; }
  int32_t kv_dim() const { return head_size() * n_kv_heads; }
};

/// Checks every field of `s` (positive, bounded, dividing); returns an
/// `invalid_config` error naming `origin` and the problem.
caf::error validate_shape(const model_shape& s, const std::string& origin);

/// Returns the size in bytes of a checkpoint of shape `s`, or 0 if it
/// overflows. Assumes `validate_shape(s)` passed.
uint64_t checkpoint_bytes(const model_shape& s);

/// Pointers to the fp32 tensors of one checkpoint, in llama2.c's layout:
/// matrices are row-major (out x in), one per layer back to back.
struct model_weights {
  const float* token_embedding = nullptr; ///< vocab x dim
  const float* rms_att = nullptr;         ///< layers x dim
  const float* wq = nullptr;              ///< layers x dim x dim
  const float* wk = nullptr;              ///< layers x kv_dim x dim
  const float* wv = nullptr;              ///< layers x kv_dim x dim
  const float* wo = nullptr;              ///< layers x dim x dim
  const float* rms_ffn = nullptr;         ///< layers x dim
  const float* w1 = nullptr;              ///< layers x hidden x dim
  const float* w2 = nullptr;              ///< layers x dim x hidden
  const float* w3 = nullptr;              ///< layers x hidden x dim
  const float* rms_final = nullptr;       ///< dim
  const float* wcls = nullptr;            ///< vocab x dim
};

/// A llama2.c legacy checkpoint, memory-mapped read-only. Move-only; the
/// mapping lives as long as the object.
class checkpoint {
public:
  /// Maps `path` after validating its header and its exact size. Errors are
  /// `invalid_config` naming the file and the problem.
  static caf::expected<checkpoint> open(const std::string& path);

  checkpoint() = default;
  checkpoint(checkpoint&& other) noexcept;
  checkpoint& operator=(checkpoint&& other) noexcept;
  checkpoint(const checkpoint&) = delete;
  checkpoint& operator=(const checkpoint&) = delete;
  ~checkpoint();

  const model_shape& shape() const { return shape_; }
  const model_weights& weights() const { return weights_; }
  const std::string& path() const { return path_; }

private:
  void release() noexcept;

  std::string path_;
  model_shape shape_;
  model_weights weights_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
};

} // namespace dine
