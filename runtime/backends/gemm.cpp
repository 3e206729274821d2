#include "runtime/backends/gemm.hpp"

#include <cstring>

#include <cblas.h>

#include "runtime/backends/step_pool.hpp"

// Vector types pass only between always-inlined functions of one ISA.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace dine {

namespace {

constexpr int32_t panel = 32; // output columns per packed panel

template <int L>
struct vec {
  typedef float type __attribute__((vector_size(L * 4)));
};

#define DINE_INLINE __attribute__((always_inline)) inline

/// r (<= R) rows of x times one panel: R x (32 / L) accumulators in
/// registers, one broadcast of x and 32 / L loads of the panel per step.
template <int L, int R>
DINE_INLINE void tile(const float* x, int32_t in, const float* p, float* y,
                      int32_t out, int32_t ncols, bool accumulate) {
  using v = typename vec<L>::type;
  constexpr int C = panel / L;
  v acc[R][C];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c)
      acc[r][c] = v{};
  for (int32_t k = 0; k < in; ++k) {
    v wv[C];
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c)
      std::memcpy(&wv[c], p + size_t(k) * panel + c * L, sizeof(v));
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      float xs = x[size_t(r) * in + k];
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c)
        acc[r][c] += wv[c] * xs;
    }
  }
  for (int r = 0; r < R; ++r) {
    float buf[panel];
    std::memcpy(buf, acc[r], sizeof(buf));
    float* dst = y + size_t(r) * out;
    if (accumulate)
      for (int32_t j = 0; j < ncols; ++j)
        dst[j] += buf[j];
    else
      std::memcpy(dst, buf, sizeof(float) * size_t(ncols));
  }
}

/// Panels [p0, p1) for all rows.
template <int L, int R>
DINE_INLINE void panels(const float* x, int32_t rows, const packed_matrix& w,
                        float* y, bool acc, int32_t p0, int32_t p1) {
  for (int32_t pi = p0; pi < p1; ++pi) {
    const float* p = w.data.data() + size_t(pi) * w.in * panel;
    int32_t j = pi * panel;
    int32_t ncols = w.out - j < panel ? w.out - j : panel;
    int32_t i = 0;
    for (; i + R <= rows; i += R)
      tile<L, R>(x + size_t(i) * w.in, w.in, p, y + size_t(i) * w.out + j,
                 w.out, ncols, acc);
    if (R > 4 && rows - i >= 4) {
      tile<L, 4>(x + size_t(i) * w.in, w.in, p, y + size_t(i) * w.out + j,
                 w.out, ncols, acc);
      i += 4;
    }
    if (R > 2 && rows - i >= 2) {
      tile<L, 2>(x + size_t(i) * w.in, w.in, p, y + size_t(i) * w.out + j,
                 w.out, ncols, acc);
      i += 2;
    }
    for (; i < rows; ++i)
      tile<L, 1>(x + size_t(i) * w.in, w.in, p, y + size_t(i) * w.out + j,
                 w.out, ncols, acc);
  }
}

__attribute__((target("avx512f"))) void
panels_avx512(const float* x, int32_t rows, const packed_matrix& w, float* y,
              bool acc, int32_t p0, int32_t p1) {
  panels<16, 8>(x, rows, w, y, acc, p0, p1);
}

__attribute__((target("avx2,fma"))) void
panels_avx2(const float* x, int32_t rows, const packed_matrix& w, float* y,
            bool acc, int32_t p0, int32_t p1) {
  panels<8, 3>(x, rows, w, y, acc, p0, p1);
}

void panels_base(const float* x, int32_t rows, const packed_matrix& w, float* y,
                 bool acc, int32_t p0, int32_t p1) {
  panels<4, 1>(x, rows, w, y, acc, p0, p1);
}

using panels_fn = void (*)(const float*, int32_t, const packed_matrix&, float*,
                           bool, int32_t, int32_t);

panels_fn pick() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return panels_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return panels_avx2;
  return panels_base;
}

template <int L>
DINE_INLINE void attend_impl(const float* q, int32_t hs, int32_t len,
                             const float* const* blocks, uint32_t bs,
                             int32_t stride, float* scores, float* out) {
  using v = typename vec<L>::type;
  const float scale = 1.0f / __builtin_sqrtf(static_cast<float>(hs));
  const int32_t nv = hs / L; // full vectors; the rest is scalar
  float mx = -__builtin_inff();
  for (int32_t t = 0; t < len; ++t) {
    const float* k =
        blocks[uint32_t(t) / bs] + size_t(uint32_t(t) % bs) * stride;
    v acc = v{};
    for (int32_t i = 0; i < nv; ++i) {
      v a, b;
      std::memcpy(&a, q + i * L, sizeof(v));
      std::memcpy(&b, k + i * L, sizeof(v));
      acc += a * b;
    }
    float s = 0;
    for (int l = 0; l < L; ++l)
      s += acc[l];
    for (int32_t i = nv * L; i < hs; ++i)
      s += q[i] * k[i];
    s *= scale;
    scores[t] = s;
    mx = s > mx ? s : mx;
  }
  float sum = 0;
  for (int32_t t = 0; t < len; ++t) {
    scores[t] = __builtin_expf(scores[t] - mx);
    sum += scores[t];
  }
  const float inv = 1.0f / sum;
  for (int32_t i = 0; i < hs; ++i)
    out[i] = 0;
  for (int32_t t = 0; t < len; ++t) {
    const float* val = blocks[uint32_t(t) / bs] + size_t(bs) * stride +
                       size_t(uint32_t(t) % bs) * stride;
    float a = scores[t] * inv;
    for (int32_t i = 0; i < nv; ++i) {
      v o, b;
      std::memcpy(&o, out + i * L, sizeof(v));
      std::memcpy(&b, val + i * L, sizeof(v));
      o += b * a;
      std::memcpy(out + i * L, &o, sizeof(v));
    }
    for (int32_t i = nv * L; i < hs; ++i)
      out[i] += a * val[i];
  }
}

using attend_fn = void (*)(const float*, int32_t, int32_t, const float* const*,
                           uint32_t, int32_t, float*, float*);

__attribute__((target("avx512f"))) void
attend_avx512(const float* q, int32_t hs, int32_t len,
              const float* const* blocks, uint32_t bs, int32_t stride,
              float* scores, float* out) {
  attend_impl<16>(q, hs, len, blocks, bs, stride, scores, out);
}

__attribute__((target("avx2,fma"))) void
attend_avx2(const float* q, int32_t hs, int32_t len, const float* const* blocks,
            uint32_t bs, int32_t stride, float* scores, float* out) {
  attend_impl<8>(q, hs, len, blocks, bs, stride, scores, out);
}

void attend_base(const float* q, int32_t hs, int32_t len,
                 const float* const* blocks, uint32_t bs, int32_t stride,
                 float* scores, float* out) {
  attend_impl<4>(q, hs, len, blocks, bs, stride, scores, out);
}

attend_fn pick_attend() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return attend_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return attend_avx2;
  return attend_base;
}

} // namespace

void attend(const float* q, int32_t head_size, int32_t len,
            const float* const* blocks, uint32_t bs, int32_t stride,
            float* scores, float* out) {
  static const attend_fn fn = pick_attend();
  fn(q, head_size, len, blocks, bs, stride, scores, out);
}

packed_matrix pack_wt(const float* w, int32_t out, int32_t in) {
  packed_matrix m;
  m.in = in;
  m.out = out;
  int32_t n = (out + panel - 1) / panel;
  m.data.assign(size_t(n) * in * panel, 0.0f);
  for (int32_t j = 0; j < out; ++j) {
    float* p = m.data.data() + size_t(j / panel) * in * panel + j % panel;
    const float* row = w + size_t(j) * in;
    for (int32_t k = 0; k < in; ++k)
      p[size_t(k) * panel] = row[k];
  }
  return m;
}

void matmul_packed(const float* x, int32_t rows, const packed_matrix& w,
                   float* y, bool accumulate, step_pool* pool) {
  static const panels_fn fn = pick();
  int32_t n = (w.out + panel - 1) / panel;
  uint64_t work = uint64_t(rows) * uint64_t(w.in) * uint64_t(w.out);
  // Waking a helper costs tens of microseconds on a busy VM: only products
  // of 2M multiply-adds and more (~0.1 ms) are split.
  int32_t threads = pool != nullptr ? pool->size() : 1;
  // Below 8 rows a product streams its weights faster than it computes
  // (memory-bound: one core already saturates the bus), so it runs alone.
  if (threads < 2 || n < 2 || rows < 8 || work < (uint64_t{1} << 21)) {
    fn(x, rows, w, y, accumulate, 0, n);
    return;
  }
  pool->run(threads, [&](int32_t t, int32_t) {
    int32_t p0 = int32_t(int64_t(n) * t / threads);
    int32_t p1 = int32_t(int64_t(n) * (t + 1) / threads);
    fn(x, rows, w, y, accumulate, p0, p1);
  });
}

void matmul_blas(const float* x, int32_t rows, int32_t in, const float* w,
                 int32_t out, float* y, bool accumulate) {
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
