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
                         gemm_kernel kernel)
    : w_(cp.weights()), s_(cp.shape()), pool_(pool), kernel_(kernel) {
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
}

void transformer::forward(const std::vector<fwd_row>& rows,
                          std::vector<float>& logits) {
  const int32_t n = static_cast<int32_t>(rows.size());
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
  for (int32_t l = 0; l < s_.n_layers; ++l) {
    for (int32_t r = 0; r < n; ++r)
      rmsnorm(&xb_[size_t(r) * d], &x_[size_t(r) * d],
              w_.rms_att + size_t(l) * d, d);
    matmul_wt(kernel_, xb_.data(), n, d, w_.wq + size_t(l) * d * d, d,
              q_.data(), false);
    matmul_wt(kernel_, xb_.data(), n, d, w_.wk + size_t(l) * d * kv, kv,
              k_.data(), false);
    matmul_wt(kernel_, xb_.data(), n, d, w_.wv + size_t(l) * d * kv, kv,
              v_.data(), false);
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
    matmul_wt(kernel_, att_out_.data(), n, d, w_.wo + size_t(l) * d * d, d,
              x_.data(), true);
    for (int32_t r = 0; r < n; ++r)
      rmsnorm(&xb_[size_t(r) * d], &x_[size_t(r) * d],
              w_.rms_ffn + size_t(l) * d, d);
    matmul_wt(kernel_, xb_.data(), n, d, w_.w1 + size_t(l) * d * hd, hd,
              h1_.data(), false);
    matmul_wt(kernel_, xb_.data(), n, d, w_.w3 + size_t(l) * d * hd, hd,
              h3_.data(), false);
    for (size_t i = 0; i < size_t(n) * hd; ++i) {
      float g = h1_[i];
      h1_[i] = g / (1.0f + std::exp(-g)) * h3_[i];
    }
    matmul_wt(kernel_, h1_.data(), n, hd, w_.w2 + size_t(l) * hd * d, d,
              x_.data(), true);
  }
  // Classifier over the rows that want logits only.
  int32_t m = 0;
  for (int32_t r = 0; r < n; ++r)
    if (rows[r].logits)
      rmsnorm(&xb_[size_t(m++) * d], &x_[size_t(r) * d], w_.rms_final, d);
  logits.resize(size_t(m) * s_.vocab_size);
  if (m > 0)
    matmul_wt(kernel_, xb_.data(), m, d, w_.wcls, s_.vocab_size, logits.data(),
              false);
}

void transformer::attention(const std::vector<fwd_row>& rows, int32_t l) {
  const int32_t d = s_.dim, kv = s_.kv_dim(), hs = s_.head_size();
  const int32_t kv_mul = s_.n_heads / s_.n_kv_heads;
  const uint32_t bs = pool_.block_size();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  scores_.resize(size_t(s_.seq_len));
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    int32_t len = row.pos + 1;
    for (int32_t h = 0; h < s_.n_heads; ++h) {
      const float* q = &q_[r * d + size_t(h) * hs];
      const size_t off = size_t(h / kv_mul) * hs;
      float mx = -INFINITY;
      for (int32_t t = 0; t < len; ++t) {
        const float* k = pool_.keys(row.blocks[uint32_t(t) / bs], l) +
                         size_t(uint32_t(t) % bs) * kv + off;
        float s = 0;
        for (int32_t i = 0; i < hs; ++i)
          s += q[i] * k[i];
        s *= scale;
        scores_[t] = s;
        mx = s > mx ? s : mx;
      }
      float sum = 0;
      for (int32_t t = 0; t < len; ++t) {
        scores_[t] = std::exp(scores_[t] - mx);
        sum += scores_[t];
      }
      float* out = &att_out_[r * d + size_t(h) * hs];
      std::memset(out, 0, sizeof(float) * hs);
      for (int32_t t = 0; t < len; ++t) {
        const float* v = pool_.keys(row.blocks[uint32_t(t) / bs], l) +
                         size_t(bs) * kv + size_t(uint32_t(t) % bs) * kv + off;
        float a = scores_[t] / sum;
        for (int32_t i = 0; i < hs; ++i)
          out[i] += a * v[i];
      }
    }
  }
}

} // namespace dine
