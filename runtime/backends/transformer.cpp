#include "runtime/backends/transformer.hpp"

#include <cmath>
#include <cstring>

namespace dine {

namespace {

void rmsnorm(float* out, const float* x, const float* weight, int32_t n) {
  float ss = 0;
  for (int32_t i = 0; i < n; ++i)
    ss += x[i] * x[i];
  ss = 1.0f / std::sqrt(ss / static_cast<float>(n) + 1e-5f);
  for (int32_t i = 0; i < n; ++i)
    out[i] = weight[i] * (ss * x[i]);
}

} // namespace

transformer::transformer(const checkpoint& cp, kv_pool& pool,
                         gemm_kernel kernel, int32_t threads)
    : w_(cp.weights()), s_(cp.shape()), pool_(pool), kernel_(kernel),
      pool_threads_(std::make_unique<step_pool>(threads > 0 ? threads : 1)) {
  // llama2.c's rotary embedding: pairs (2i, 2i+1) of each head rotate by
  // pos / 10000^(2i / head_size).
  int32_t hs = s_.head_size();
  cos_.resize(size_t(s_.seq_len) * hs / 2);
  sin_.resize(cos_.size());
  for (int32_t pos = 0; pos < s_.seq_len; ++pos)
    for (int32_t i = 0; i < hs; i += 2) {
      float freq = 1.0f / powf(10000.0f, float(i) / float(hs));
      float val = float(pos) * freq;
      cos_[size_t(pos) * hs / 2 + i / 2] = cosf(val);
      sin_[size_t(pos) * hs / 2 + i / 2] = sinf(val);
    }
  if (kernel_ != gemm_kernel::blocked)
    return;
  const size_t d = s_.dim, hd = s_.hidden_dim, kv = s_.kv_dim();
  for (int32_t l = 0; l < s_.n_layers; ++l) {
    packed_layer p;
    p.wq = pack_wt(w_.wq + l * d * d, s_.dim, s_.dim);
    p.wk = pack_wt(w_.wk + l * d * kv, s_.kv_dim(), s_.dim);
    p.wv = pack_wt(w_.wv + l * d * kv, s_.kv_dim(), s_.dim);
    p.wo = pack_wt(w_.wo + l * d * d, s_.dim, s_.dim);
    p.w1 = pack_wt(w_.w1 + l * d * hd, s_.hidden_dim, s_.dim);
    p.w2 = pack_wt(w_.w2 + l * hd * d, s_.dim, s_.hidden_dim);
    p.w3 = pack_wt(w_.w3 + l * d * hd, s_.hidden_dim, s_.dim);
    packed_.push_back(std::move(p));
  }
  packed_cls_ = pack_wt(w_.wcls, s_.vocab_size, s_.dim);
}

void transformer::mm(const float* x, int32_t rows, const float* w,
                     const packed_matrix& pw, int32_t in, int32_t out, float* y,
                     bool accumulate) {
  if (kernel_ == gemm_kernel::blocked)
    matmul_packed(x, rows, pw, y, accumulate, pool_threads_.get());
  else
    matmul_blas(x, rows, in, w, out, y, accumulate);
}

void transformer::forward(const std::vector<fwd_row>& rows,
                          std::vector<float>& logits) {
  const int32_t n = static_cast<int32_t>(rows.size());
  logits.clear();
  if (n == 0)
    return;
  const int32_t d = s_.dim, hd = s_.hidden_dim, kv = s_.kv_dim();
  const int32_t hs = s_.head_size();
  x_.resize(size_t(n) * d);
  xb_.resize(size_t(n) * d);
  q_.resize(size_t(n) * d);
  k_.resize(size_t(n) * kv);
  v_.resize(size_t(n) * kv);
  att_out_.resize(size_t(n) * d);
  h1_.resize(size_t(n) * hd);
  h3_.resize(size_t(n) * hd);
  for (int32_t r = 0; r < n; ++r)
    std::memcpy(&x_[size_t(r) * d],
                w_.token_embedding + size_t(rows[r].token) * d,
                sizeof(float) * d);
  const uint32_t bs = pool_.block_size();
  static const packed_layer none{};
  for (int32_t l = 0; l < s_.n_layers; ++l) {
    const auto& pl = packed_.empty() ? none : packed_[size_t(l)];
    for (int32_t r = 0; r < n; ++r)
      rmsnorm(&xb_[size_t(r) * d], &x_[size_t(r) * d],
              w_.rms_att + size_t(l) * d, d);
    mm(xb_.data(), n, w_.wq + size_t(l) * d * d, pl.wq, d, d, q_.data(), false);
    mm(xb_.data(), n, w_.wk + size_t(l) * d * kv, pl.wk, d, kv, k_.data(),
       false);
    mm(xb_.data(), n, w_.wv + size_t(l) * d * kv, pl.wv, d, kv, v_.data(),
       false);
    // Rotary embedding of q and k, then k and v into the cache.
    for (int32_t r = 0; r < n; ++r) {
      const float* c = &cos_[size_t(rows[r].pos) * hs / 2];
      const float* sn = &sin_[size_t(rows[r].pos) * hs / 2];
      auto rotate = [&](float* vec, int32_t width) {
        for (int32_t i = 0; i < width; i += 2) {
          int32_t j = (i % hs) / 2;
          float v0 = vec[i], v1 = vec[i + 1];
          vec[i] = v0 * c[j] - v1 * sn[j];
          vec[i + 1] = v0 * sn[j] + v1 * c[j];
        }
      };
      rotate(&q_[size_t(r) * d], d);
      rotate(&k_[size_t(r) * kv], kv);
      uint32_t pos = static_cast<uint32_t>(rows[r].pos);
      float* kc =
          pool_.keys(rows[r].blocks[pos / bs], l) + size_t(pos % bs) * kv;
      std::memcpy(kc, &k_[size_t(r) * kv], sizeof(float) * kv);
      std::memcpy(kc + size_t(bs) * kv, &v_[size_t(r) * kv],
                  sizeof(float) * kv);
    }
    attention(rows, l);
    mm(att_out_.data(), n, w_.wo + size_t(l) * d * d, pl.wo, d, d, x_.data(),
       true);
    for (int32_t r = 0; r < n; ++r)
      rmsnorm(&xb_[size_t(r) * d], &x_[size_t(r) * d],
              w_.rms_ffn + size_t(l) * d, d);
    mm(xb_.data(), n, w_.w1 + size_t(l) * d * hd, pl.w1, d, hd, h1_.data(),
       false);
    mm(xb_.data(), n, w_.w3 + size_t(l) * d * hd, pl.w3, d, hd, h3_.data(),
       false);
    for (size_t i = 0; i < size_t(n) * hd; ++i) {
      float g = h1_[i];
      h1_[i] = g / (1.0f + std::exp(-g)) * h3_[i];
    }
    mm(h1_.data(), n, w_.w2 + size_t(l) * hd * d, pl.w2, hd, d, x_.data(),
       true);
  }
  // Classifier over the rows that want logits only.
  int32_t m = 0;
  for (int32_t r = 0; r < n; ++r)
    if (rows[r].logits)
      rmsnorm(&xb_[size_t(m++) * d], &x_[size_t(r) * d], w_.rms_final, d);
  logits.resize(size_t(m) * s_.vocab_size);
  if (m > 0)
    mm(xb_.data(), m, w_.wcls, packed_cls_, d, s_.vocab_size, logits.data(),
       false);
}

void transformer::attention(const std::vector<fwd_row>& rows, int32_t l) {
  const int32_t d = s_.dim, kv = s_.kv_dim(), hs = s_.head_size();
  const int32_t kv_mul = s_.n_heads / s_.n_kv_heads;
  const uint32_t bs = pool_.block_size();
  const int32_t n = static_cast<int32_t>(rows.size());
  // Per row, the layer's key area of each block it covers.
  size_t per_row = (size_t(s_.seq_len) + bs - 1) / bs;
  block_ptrs_.resize(rows.size() * per_row);
  for (size_t r = 0; r < rows.size(); ++r) {
    uint32_t nb = uint32_t(rows[r].pos) / bs + 1;
    for (uint32_t b = 0; b < nb; ++b)
      block_ptrs_[r * per_row + b] = pool_.keys(rows[r].blocks[b], l);
  }
  // Worth waking the other threads only for enough score work.
  int64_t work = 0;
  for (auto& row : rows)
    work += int64_t(row.pos + 1) * s_.n_heads;
  int32_t threads = work > (1 << 13) ? pool_threads_->size() : 1;
  scores_.resize(size_t(threads) * size_t(s_.seq_len));
  // Rows and heads are independent: split them over the threads, in
  // contiguous chunks.
  const int32_t tasks = n * s_.n_heads;
  const int32_t chunks = threads > 1 ? threads * 4 : 1;
  auto body = [&](int32_t c, int32_t tid) {
    float* scores = &scores_[size_t(tid) * s_.seq_len];
    std::vector<const float*> shifted(per_row);
    int32_t t0 = int32_t(int64_t(tasks) * c / chunks);
    int32_t t1 = int32_t(int64_t(tasks) * (c + 1) / chunks);
    for (int32_t task = t0; task < t1; ++task) {
      int32_t r = task / s_.n_heads, h = task % s_.n_heads;
      // Keys of KV head h / kv_mul start at that head's offset in a row.
      const float* const* ptrs = &block_ptrs_[size_t(r) * per_row];
      uint32_t nb = uint32_t(rows[r].pos) / bs + 1;
      size_t off = size_t(h / kv_mul) * hs;
      for (uint32_t b = 0; b < nb; ++b)
        shifted[b] = ptrs[b] + off;
      attend(&q_[size_t(r) * d + size_t(h) * hs], hs, rows[r].pos + 1,
             shifted.data(), bs, kv, scores,
             &att_out_[size_t(r) * d + size_t(h) * hs]);
    }
  };
  if (threads > 1)
    pool_threads_->run(chunks, body);
  else
    body(0, 0);
}

} // namespace dine
