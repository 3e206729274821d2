// transformer: the batched, paged forward pass against a plain llama2.c
// transcription (one token at a time, one contiguous cache).

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "runtime/backends/checkpoint.hpp"
#include "runtime/backends/kv_pool.hpp"
#include "runtime/backends/transformer.hpp"
#include "tests/unit/model_fixture.hpp"

using namespace dine;
using namespace dine::test;

namespace {

/// llama2.c's forward(), transcribed with a contiguous KV cache.
class reference_model {
public:
  explicit reference_model(const checkpoint& cp)
      : w_(cp.weights()), s_(cp.shape()) {
    size_t kv = s_.kv_dim();
    kcache_.assign(size_t(s_.n_layers) * s_.seq_len * kv, 0);
    vcache_ = kcache_;
  }

  std::vector<float> forward(int32_t token, int32_t pos) {
    int d = s_.dim, hd = s_.hidden_dim, kv = s_.kv_dim(), hs = s_.head_size();
    std::vector<float> x(w_.token_embedding + size_t(token) * d,
                         w_.token_embedding + size_t(token + 1) * d);
    std::vector<float> xb(d), q(d), k(kv), v(kv), h1(hd), h3(hd), att(d);
    for (int l = 0; l < s_.n_layers; ++l) {
      rmsnorm(xb, x, w_.rms_att + size_t(l) * d);
      matvec(q, xb, w_.wq + size_t(l) * d * d);
      matvec(k, xb, w_.wk + size_t(l) * d * kv);
      matvec(v, xb, w_.wv + size_t(l) * d * kv);
      for (int i = 0; i < d; i += 2) {
        int hdim = i % hs;
        float freq = 1.0f / powf(10000.0f, hdim / (float)hs);
        float val = pos * freq, fcr = cosf(val), fci = sinf(val);
        for (int rot = 0; rot < (i < kv ? 2 : 1); ++rot) {
          auto& vec = rot == 0 ? q : k;
          float v0 = vec[i], v1 = vec[i + 1];
          vec[i] = v0 * fcr - v1 * fci;
          vec[i + 1] = v0 * fci + v1 * fcr;
        }
      }
      size_t off = (size_t(l) * s_.seq_len + pos) * kv;
      std::copy(k.begin(), k.end(), kcache_.begin() + off);
      std::copy(v.begin(), v.end(), vcache_.begin() + off);
      int kv_mul = s_.n_heads / s_.n_kv_heads;
      for (int h = 0; h < s_.n_heads; ++h) {
        std::vector<float> sc(pos + 1);
        float mx = -1e30f;
        for (int t = 0; t <= pos; ++t) {
          const float* kt = &kcache_[(size_t(l) * s_.seq_len + t) * kv +
                                     size_t(h / kv_mul) * hs];
          float s = 0;
          for (int i = 0; i < hs; ++i)
            s += q[h * hs + i] * kt[i];
          sc[t] = s / std::sqrt(float(hs));
          mx = std::max(mx, sc[t]);
        }
        float sum = 0;
        for (auto& s : sc)
          sum += (s = std::exp(s - mx));
        for (int i = 0; i < hs; ++i) {
          float a = 0;
          for (int t = 0; t <= pos; ++t)
            a += sc[t] / sum *
                 vcache_[(size_t(l) * s_.seq_len + t) * kv +
                         size_t(h / kv_mul) * hs + i];
          att[h * hs + i] = a;
        }
      }
      std::vector<float> o(d);
      matvec(o, att, w_.wo + size_t(l) * d * d);
      for (int i = 0; i < d; ++i)
        x[i] += o[i];
      rmsnorm(xb, x, w_.rms_ffn + size_t(l) * d);
      matvec(h1, xb, w_.w1 + size_t(l) * d * hd);
      matvec(h3, xb, w_.w3 + size_t(l) * d * hd);
      for (int i = 0; i < hd; ++i)
        h1[i] = h1[i] / (1.0f + std::exp(-h1[i])) * h3[i];
      std::vector<float> f(d);
      matvec(f, h1, w_.w2 + size_t(l) * hd * d);
      for (int i = 0; i < d; ++i)
        x[i] += f[i];
    }
    rmsnorm(xb, x, w_.rms_final);
    std::vector<float> logits(s_.vocab_size);
    matvec(logits, xb, w_.wcls);
    return logits;
  }

private:
  static void rmsnorm(std::vector<float>& o, const std::vector<float>& x,
                      const float* w) {
    float ss = 0;
    for (auto v : x)
      ss += v * v;
    ss = 1.0f / std::sqrt(ss / x.size() + 1e-5f);
    for (size_t i = 0; i < x.size(); ++i)
      o[i] = w[i] * ss * x[i];
  }

  static void matvec(std::vector<float>& out, const std::vector<float>& x,
                     const float* w) {
    for (size_t i = 0; i < out.size(); ++i) {
      float s = 0;
      for (size_t j = 0; j < x.size(); ++j)
        s += w[i * x.size() + j] * x[j];
      out[i] = s;
    }
  }

  const model_weights& w_;
  model_shape s_;
  std::vector<float> kcache_, vcache_;
};

/// A sequence's block table in `pool`, grown to hold `n` tokens.
struct table {
  std::vector<uint32_t> blocks;
  void grow(kv_pool& pool, size_t n) {
    while (blocks.size() < pool.blocks_for(n)) {
      uint32_t id = 0;
      REQUIRE(pool.take(id));
      blocks.push_back(id);
    }
  }
};

float max_diff(const float* a, const float* b, size_t n) {
  float m = 0;
  for (size_t i = 0; i < n; ++i)
    m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

const std::vector<int32_t> seq_a{1,  40, 300, 7,  99, 511, 3,  200, 64, 65, 66,
                                 67, 68, 12,  13, 14, 15,  16, 17,  18, 19};

} // namespace

TEST_CASE("transformer decode with the KV cache matches full recomputation") {
  for (auto kernel : {gemm_kernel::blas, gemm_kernel::blocked}) {
    CAPTURE(static_cast<int>(kernel));
    model_files files;
    auto cp = checkpoint::open(files.checkpoint);
    REQUIRE(cp);
    const size_t vocab = 512, n = seq_a.size();
    // One pass over the whole sequence, logits for every position.
    kv_pool pool1{cp->shape(), 4, 64};
    transformer full{*cp, pool1, kernel};
    table t1;
    t1.grow(pool1, n);
    std::vector<fwd_row> rows;
    for (size_t p = 0; p < n; ++p)
      rows.push_back(fwd_row{seq_a[p], int32_t(p), t1.blocks.data(), true});
    std::vector<float> all;
    full.forward(rows, all);
    REQUIRE(all.size() == n * vocab);
    // Token by token, reusing the cache; and the llama2.c transcription.
    kv_pool pool2{cp->shape(), 4, 64};
    transformer inc{*cp, pool2, kernel};
    reference_model ref{*cp};
    table t2;
    std::vector<float> one;
    for (size_t p = 0; p < n; ++p) {
      t2.grow(pool2, p + 1);
      inc.forward({fwd_row{seq_a[p], int32_t(p), t2.blocks.data(), true}}, one);
      CHECK(max_diff(one.data(), &all[p * vocab], vocab) < 1e-4f);
      auto r = ref.forward(seq_a[p], int32_t(p));
      CHECK(max_diff(one.data(), r.data(), vocab) < 1e-4f);
    }
  }
}

TEST_CASE("transformer batched step gives each sequence's logits alone") {
  model_files files;
  auto cp = checkpoint::open(files.checkpoint);
  REQUIRE(cp);
  const size_t vocab = 512;
  std::vector<std::vector<int32_t>> seqs{
      {1, 5, 6, 7, 8, 9}, {1, 300, 301}, {1, 44, 45, 46, 47, 48, 49, 50, 51}};
  // Alone: each sequence in its own pool, token by token.
  std::vector<std::vector<float>> alone;
  for (auto& s : seqs) {
    kv_pool pool{cp->shape(), 4, 16};
    transformer m{*cp, pool};
    table t;
    std::vector<float> out;
    for (size_t p = 0; p < s.size(); ++p) {
      t.grow(pool, p + 1);
      m.forward({fwd_row{s[p], int32_t(p), t.blocks.data(), true}}, out);
    }
    alone.push_back(out);
  }
  // Together: prefill all prompts but the last token in one pass, then one
  // batched decode step for the last token of every sequence.
  kv_pool pool{cp->shape(), 4, 64};
  transformer m{*cp, pool};
  std::vector<table> ts(seqs.size());
  std::vector<fwd_row> rows;
  for (size_t i = 0; i < seqs.size(); ++i) {
    ts[i].grow(pool, seqs[i].size());
    for (size_t p = 0; p + 1 < seqs[i].size(); ++p)
      rows.push_back(
          fwd_row{seqs[i][p], int32_t(p), ts[i].blocks.data(), false});
  }
  std::vector<float> out;
  m.forward(rows, out);
  CHECK(out.empty());
  rows.clear();
  for (size_t i = 0; i < seqs.size(); ++i)
    rows.push_back(fwd_row{seqs[i].back(), int32_t(seqs[i].size() - 1),
                           ts[i].blocks.data(), true});
  m.forward(rows, out);
  REQUIRE(out.size() == seqs.size() * vocab);
  for (size_t i = 0; i < seqs.size(); ++i)
    CHECK(max_diff(&out[i * vocab], alone[i].data(), vocab) < 1e-4f);
}

TEST_CASE("transformer with small KV blocks matches one contiguous block") {
  model_files files;
  auto cp = checkpoint::open(files.checkpoint);
  REQUIRE(cp);
  const size_t vocab = 512, n = seq_a.size();
  std::vector<std::vector<float>> results;
  for (uint32_t bs : {1u, 3u, 64u}) {
    kv_pool pool{cp->shape(), bs, 64};
    // Take a block first so the sequence's blocks are not contiguous ids.
    uint32_t hole = 0;
    REQUIRE(pool.take(hole));
    transformer m{*cp, pool};
    table t;
    t.grow(pool, n);
    std::vector<fwd_row> rows;
    for (size_t p = 0; p < n; ++p)
      rows.push_back(
          fwd_row{seq_a[p], int32_t(p), t.blocks.data(), p + 1 == n});
    std::vector<float> out;
    m.forward(rows, out);
    REQUIRE(out.size() == vocab);
    results.push_back(out);
  }
  CHECK(max_diff(results[0].data(), results[2].data(), vocab) < 1e-4f);
  CHECK(max_diff(results[1].data(), results[2].data(), vocab) < 1e-4f);
}

TEST_CASE("transformer runs an untied classifier and plain multi-head") {
  auto s = small_shape();
  s.shared_cls = false;
  s.n_kv_heads = 4;
  model_files files{s};
  auto cp = checkpoint::open(files.checkpoint);
  REQUIRE(cp);
  kv_pool pool{cp->shape(), 4, 16};
  transformer m{*cp, pool};
  reference_model ref{*cp};
  table t;
  std::vector<float> out;
  for (int32_t p = 0; p < 6; ++p) {
    t.grow(pool, size_t(p) + 1);
    m.forward({fwd_row{seq_a[p], p, t.blocks.data(), true}}, out);
    auto r = ref.forward(seq_a[p], p);
    CHECK(max_diff(out.data(), r.data(), 512) < 1e-4f);
  }
}

TEST_CASE("kv_pool reserves without over-committing and returns blocks") {
  auto s = small_shape();
  kv_pool pool{s, 4, 10};
  CHECK(pool.total() == 10);
  CHECK(pool.blocks_for(9) == 3);
  CHECK(pool.reserve(6));
  CHECK_FALSE(pool.reserve(5));
  CHECK(pool.reserve(4));
  pool.unreserve(6);
  CHECK(pool.reserved() == 4);
  std::vector<uint32_t> ids(10);
  for (auto& id : ids)
    REQUIRE(pool.take(id));
  uint32_t extra = 0;
  CHECK_FALSE(pool.take(extra));
  CHECK(pool.used() == 10);
  for (auto id : ids)
    pool.give(id);
  CHECK(pool.used() == 0);
  CHECK(pool.bytes_per_block() == 2u * 4 * 16 * 2 * sizeof(float));
  auto too_small = kv_pool::make(s, 100, 4);
  CHECK_FALSE(too_small);
}

TEST_CASE("transformer gives the same logits with two threads as with one") {
  // 60 rows: large enough that the classifier and attention split.
  model_files files;
  auto cp = checkpoint::open(files.checkpoint);
  REQUIRE(cp);
  const size_t n = 60;
  std::vector<std::vector<float>> results;
  for (int32_t threads : {1, 2}) {
    kv_pool pool{cp->shape(), 4, 64};
    transformer m{*cp, pool, gemm_kernel::blocked, threads};
    table t;
    t.grow(pool, n);
    std::vector<fwd_row> rows;
    for (size_t p = 0; p < n; ++p)
      rows.push_back(fwd_row{int32_t(1 + p * 37 % 511), int32_t(p),
                             t.blocks.data(), true});
    std::vector<float> out;
    m.forward(rows, out);
    results.push_back(out);
  }
  REQUIRE(results[0].size() == n * 512);
  CHECK(max_diff(results[0].data(), results[1].data(), n * 512) < 1e-5f);
}
