#include "runtime/backends/gemm.hpp"

#include <cblas.h>

namespace dine {

namespace {

/// Dot products of 4 rows of x with 4 rows of w (16 results), each over
/// 16 independent lanes so the compiler vectorises without reassociating.
__attribute__((target_clones("avx512f", "avx2", "default"))) void
block4x4(const float* x, int32_t xr, const float* w, int32_t wr, int32_t in,
         float* y, int32_t out, bool accumulate) {
  constexpr int L = 16;
  float acc[4][4][L] = {};
  int32_t k = 0;
  for (; k + L <= in; k += L)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        if (i >= xr || j >= wr)
          continue;
        const float* a = x + i * in + k;
        const float* b = w + j * in + k;
        for (int l = 0; l < L; ++l)
          acc[i][j][l] += a[l] * b[l];
      }
  for (int i = 0; i < xr; ++i)
    for (int j = 0; j < wr; ++j) {
      float s = 0;
      for (int l = 0; l < L; ++l)
        s += acc[i][j][l];
      for (int32_t kk = k; kk < in; ++kk)
        s += x[i * in + kk] * w[j * in + kk];
      float& dst = y[i * out + j];
      dst = accumulate ? dst + s : s;
    }
}

void blocked(const float* x, int32_t rows, int32_t in, const float* w,
             int32_t out, float* y, bool accumulate) {
  for (int32_t j = 0; j < out; j += 4)
    for (int32_t i = 0; i < rows; i += 4)
      block4x4(x + size_t(i) * in, rows - i < 4 ? rows - i : 4,
               w + size_t(j) * in, out - j < 4 ? out - j : 4, in,
               y + size_t(i) * out + j, out, accumulate);
}

} // namespace

void matmul_wt(gemm_kernel k, const float* x, int32_t rows, int32_t in,
               const float* w, int32_t out, float* y, bool accumulate) {
  if (k == gemm_kernel::blocked) {
    blocked(x, rows, in, w, out, y, accumulate);
    return;
  }
  if (rows == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, w, in, x, 1,
                accumulate ? 1.0f : 0.0f, y, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x,
              in, w, in, accumulate ? 1.0f : 0.0f, y, out);
}

void set_blas_threads(int32_t n) {
  if (n > 0)
    openblas_set_num_threads(n);
}

} // namespace dine
