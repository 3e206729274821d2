#pragma once

// A small random model on disk for the transformer tests (dine-mkmodel's
// writer): GQA (4 heads, 2 KV heads) so both attention paths run.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <msgpack.hpp>

#include "runtime/backends/model_writer.hpp"
#include "runtime/node_config.hpp"
#include "tests/temp_dir.hpp"

namespace dine::test {

inline model_shape small_shape() {
  model_shape s;
  s.dim = 32;
  s.hidden_dim = 64;
  s.n_layers = 2;
  s.n_heads = 4;
  s.n_kv_heads = 2;
  s.vocab_size = 512;
  s.seq_len = 64;
  return s;
}

/// Writes `s` and a matching vocabulary into a fresh directory.
struct model_files {
  temp_dir dir;
  std::string checkpoint;
  std::string tokenizer;

  explicit model_files(model_shape s = small_shape(), uint64_t seed = 7) {
    checkpoint = dir.sub("m.bin");
    tokenizer = dir.sub("m.tok");
    REQUIRE(!write_random_checkpoint(checkpoint, s, seed));
    REQUIRE(!make_vocabulary(s.vocab_size, seed).save(tokenizer));
  }

  model_config config(uint64_t kv_bytes = 8u << 20,
                      uint32_t block_size = 4) const {
    model_config cfg;
    cfg.name = "t";
    cfg.backend = "transformer";
    cfg.checkpoint = checkpoint;
    cfg.tokenizer = tokenizer;
    cfg.kv_cache_bytes = kv_bytes;
    cfg.kv_block_size = block_size;
    return cfg;
  }
};

/// Packs a msgpack map of generation inputs from (key, packer) pairs.
template <class F>
std::vector<uint8_t> pack_inputs(uint32_t n, F fill) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  pk.pack_map(n);
  fill(pk);
  return {buf.data(), buf.data() + buf.size()};
}

/// {prompt, max_tokens, temperature 0}.
inline std::vector<uint8_t> greedy_inputs(const std::string& prompt,
                                          uint32_t max_tokens) {
  return pack_inputs(3, [&](auto& pk) {
    pk.pack(std::string{"prompt"});
    pk.pack(prompt);
    pk.pack(std::string{"max_tokens"});
    pk.pack(max_tokens);
    pk.pack(std::string{"temperature"});
    pk.pack(0);
  });
}

} // namespace dine::test
