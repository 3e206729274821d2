#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>

#include "runtime/backends/checkpoint.hpp"
#include "runtime/backends/tokenizer.hpp"

namespace dine {

/// Writes a deterministic random checkpoint of shape `s` to `path` in
/// llama2.c's legacy format: matrices normal(0, 0.02), RMSNorm weights 1,
/// the unused freq_cis tables filled as llama2.c's export does. The same
/// seed and shape give the same bytes.
caf::error write_random_checkpoint(const std::string& path,
                                   const model_shape& s, uint64_t seed);

/// Builds a vocabulary of exactly `vocab_size` tokens: <unk> <s> </s>, the
/// 256 byte tokens <0x00>..<0xFF>, the printable ASCII characters, BPE
/// merges learned from a built-in English text, then deterministic merges
/// of random token pairs until the size is reached. Merges score by rank
/// (earlier = higher). Smaller sizes keep the first `vocab_size` tokens.
tokenizer make_vocabulary(int32_t vocab_size, uint64_t seed);

} // namespace dine
