#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/backends/tokenizer.hpp"

namespace dine {

/// The validated inputs of one generation request (docs/models.md).
struct gen_params {
  std::vector<int32_t> prompt; ///< Token ids, BOS first for text prompts.
  uint32_t max_tokens = 128;
  float temperature = 0.0f; ///< 0 = greedy (the default).
  float top_p = 1.0f;
  std::optional<uint64_t> seed; ///< Absent: derived from the sequence id.
  std::vector<std::string> stop;
};

/// Limits on stop strings: hostile inputs cannot make matching expensive.
constexpr size_t max_stop_strings = 16;
constexpr size_t max_stop_length = 256;

/// Parses a msgpack map of inputs (`prompt` or `tokens`, `max_tokens`,
/// `temperature`, `top_p`, `seed`, `stop`; other keys are ignored) and
/// checks it against the model: token ids within the vocabulary, a prompt
/// shorter than the context window `seq_len`. Errors are `invalid_input`
/// naming the field or the limit.
caf::expected<gen_params> parse_gen_inputs(const std::vector<uint8_t>& inputs,
                                           const tokenizer& tok,
                                           int32_t seq_len);

/// Encodes the final outputs of a sequence: a msgpack map {text, tokens,
/// finish_reason, usage {prompt_tokens, completion_tokens}}.
std::vector<uint8_t> encode_gen_outputs(const std::string& text,
                                        const std::vector<int32_t>& tokens,
                                        const char* finish_reason,
                                        size_t prompt_tokens);

} // namespace dine
