#pragma once

#include <cstdint>

namespace dine {

/// The matrix kernels of the transformer backend (docs/design.md,
/// "Transformer backend", says which is used and why).
enum class gemm_kernel : uint8_t {
  blas,    ///< OpenBLAS cblas_sgemm (dispatches to AVX2/AVX-512 at run time).
  blocked, ///< Our own 4x4 register-blocked kernel, compiled per ISA.
};

/// y (rows x out) = x (rows x in) * w^T, w row-major (out x in) as llama2.c
/// stores weights; adds to y instead if `accumulate`.
void matmul_wt(gemm_kernel k, const float* x, int32_t rows, int32_t in,
               const float* w, int32_t out, float* y, bool accumulate);

/// Sets the threads OpenBLAS uses (0 = its default).
void set_blas_threads(int32_t n);

} // namespace dine
