#pragma once

// The text steps of a model pipeline (runtime/pipeline_spec.hpp):
// normalisation, tokenisation and detokenisation of msgpack inputs and
// outputs (docs/design.md, "Pre- and post-processing pipelines").

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>

#include "runtime/backends/tokenizer.hpp"
#include "runtime/pipeline_spec.hpp"

namespace dine {

/// Normalises `text`: ASCII control characters become spaces, ASCII
/// letters are folded to lower case (if `fold_case`), runs of whitespace
/// become one space, and leading and trailing whitespace is removed.
/// Bytes >= 0x80 (UTF-8 sequences) are kept as they are.
std::string normalize_text(std::string_view text, bool fold_case);

/// Normalises the text of `inputs` (msgpack): a bare string, or the string
/// value of `s.field` in a map; any other value is left as it is. Errors
/// (`invalid_input`) only for malformed msgpack.
caf::error normalize_inputs(std::vector<uint8_t>& inputs, const step_spec& s);

/// Replaces the text of `inputs` (a bare string, or the string at
/// `s.field` of a map) by `tokens`: its token ids as `tok` encodes them
/// (BOS first), the way the `transformer` model encodes a `prompt`
/// (docs/models.md). A bare string becomes `{tokens: [...]}`. Inputs
/// without that text are left as they are; a map holding both the text
/// and `tokens` is `invalid_input`.
caf::error tokenize_inputs(std::vector<uint8_t>& inputs, const step_spec& s,
                           const tokenizer& tok);

/// Sets `text` of a map of outputs holding `tokens` (generated token ids)
/// to their decoding with `tok` (each token decoded after the one before
/// it). Outputs without `tokens` are left as they are; an id outside the
/// vocabulary is `invalid_input`.
caf::error detokenize_outputs(std::vector<uint8_t>& outputs,
                              const tokenizer& tok);

} // namespace dine
