#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/backends/checkpoint.hpp"
#include "runtime/backends/gemm.hpp"
#include "runtime/backends/kv_pool.hpp"
#include "runtime/backends/step_pool.hpp"

namespace dine {

/// One token to run through the model: its id, its position in its
/// sequence, and that sequence's KV block table (covering `pos`).
struct fwd_row {
  int32_t token = 0;
  int32_t pos = 0;
  const uint32_t* blocks = nullptr;
  bool logits = false; ///< Compute the classifier for this row.
};

/// The forward pass of a Llama-style decoder over a ragged batch: any mix
/// of prompt chunks (prefill: many rows of one sequence) and decode rows
/// (one per sequence) in one pass, every projection a matrix-matrix
/// product over all rows. RMSNorm, rotary embedding (llama2.c's pairing),
/// multi-head / grouped-query attention over the paged KV cache, SwiGLU,
/// tied or untied classifier (docs/design.md, "Transformer backend").
class transformer {
public:
  /// `threads`: threads of one step with the `blocked` kernel.
  transformer(const checkpoint& cp, kv_pool& pool,
              gemm_kernel kernel = gemm_kernel::blocked, int32_t threads = 1);

  /// Writes the keys and values of every row into the cache, then fills
  /// `logits` (rows with `logits` set, in order, vocab_size floats each).
  /// Rows of one sequence must be in ascending position order; a row
  /// attends to positions 0..pos of its sequence.
  void forward(const std::vector<fwd_row>& rows, std::vector<float>& logits);

  const model_shape& shape() const { return s_; }

private:
  /// The weights of one layer repacked for the `blocked` kernel.
  struct packed_layer {
    packed_matrix wq, wk, wv, wo, w1, w2, w3;
  };

  void attention(const std::vector<fwd_row>& rows, int32_t layer);

  /// y = x * w^T with the configured kernel (`pw`: w packed).
  void mm(const float* x, int32_t rows, const float* w, const packed_matrix& pw,
          int32_t in, int32_t out, float* y, bool accumulate);

  const model_weights& w_;
  model_shape s_;
  kv_pool& pool_;
  gemm_kernel kernel_;
  std::unique_ptr<step_pool> pool_threads_;
  std::vector<float> cos_, sin_;     // seq_len x head_size/2
  std::vector<packed_layer> packed_; ///< Empty with the blas kernel.
  packed_matrix packed_cls_;
  // Workspace, resized to the batch.
  std::vector<float> x_, xb_, q_, k_, v_, att_out_, h1_, h3_, scores_;
  std::vector<const float*> block_ptrs_;
};

} // namespace dine
