#pragma once

#include <cstdint>
#include <vector>

namespace dine {

class step_pool;

/// The matrix kernels of the transformer backend (docs/design.md,
/// "Transformer backend", says which is used and why).
enum class gemm_kernel : uint8_t {
  blas,    ///< OpenBLAS sgemm/sgemv on the mapped weights.
  blocked, ///< Our own register-blocked kernel on weights packed at load.
};

/// A weight matrix (out x in, row-major as llama2.c stores it) repacked
/// once for `matmul_packed`: panels of 32 output columns, each panel
/// in x 32 contiguous (the last one zero-padded).
struct packed_matrix {
  std::vector<float> data;
  int32_t in = 0;
  int32_t out = 0;
};

/// Packs `w` (out x in).
packed_matrix pack_wt(const float* w, int32_t out, int32_t in);

/// y (rows x out) = x (rows x in) * w^T with OpenBLAS; adds to y instead
/// if `accumulate`.
void matmul_blas(const float* x, int32_t rows, int32_t in, const float* w,
                 int32_t out, float* y, bool accumulate);

/// The same product with our kernel on a packed matrix: each 32-column
/// panel streams once from memory while tiles of x rows (in cache) are
/// broadcast against it; large products split the panels over `pool`'s
/// threads (none: the calling thread only).
void matmul_packed(const float* x, int32_t rows, const packed_matrix& w,
                   float* y, bool accumulate, step_pool* pool = nullptr);

/// Attention of one query head `q` (head_size floats) over positions
/// 0..len-1 of a paged cache: position t's key is at
/// `blocks[t / bs] + (t % bs) * stride`, its value `bs * stride` further.
/// Writes softmax(q.k / sqrt(head_size)) . v to `out`; `scores` holds
/// `len` floats of scratch.
void attend(const float* q, int32_t head_size, int32_t len,
            const float* const* blocks, uint32_t bs, int32_t stride,
            float* scores, float* out);

/// Sets the threads of OpenBLAS (0 = its default: all cores).
void set_blas_threads(int32_t n);

} // namespace dine
