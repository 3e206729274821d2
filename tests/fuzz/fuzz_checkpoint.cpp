// libFuzzer target: the llama2.c checkpoint loader (docs/models.md). The
// input is a checkpoint file; when it opens, every tensor pointer must lie
// inside the mapping, which reading the first and last float of each
// checks under AddressSanitizer.

#include <cstddef>
#include <cstdint>

#include "runtime/backends/checkpoint.hpp"
#include "tests/fuzz/fuzz_file.hpp"

namespace {

volatile float sink;

void touch(const float* p, uint64_t n) {
  if (n == 0)
    return;
  sink = p[0];
  sink = p[n - 1];
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dine::fuzz::mem_file file{data, size};
  auto ck = dine::checkpoint::open(file.path());
  if (!ck)
    return 0;
  const auto& s = ck->shape();
  const auto& w = ck->weights();
  uint64_t dim = s.dim, hid = s.hidden_dim, layers = s.n_layers;
  uint64_t voc = s.vocab_size, kv = s.kv_dim();
  touch(w.token_embedding, voc * dim);
  touch(w.rms_att, layers * dim);
  touch(w.wq, layers * dim * dim);
  touch(w.wk, layers * kv * dim);
  touch(w.wv, layers * kv * dim);
  touch(w.wo, layers * dim * dim);
  touch(w.rms_ffn, layers * dim);
  touch(w.w1, layers * hid * dim);
  touch(w.w2, layers * dim * hid);
  touch(w.w3, layers * hid * dim);
  touch(w.rms_final, dim);
  touch(w.wcls, voc * dim);
  return 0;
}
