#pragma once

// The `outputs` of streamed replies (docs/protocol.md, "Streaming"): a chunk
// carries `{text, tokens}` of one step; the final frame of a stream carries
// what the generator's final outputs hold besides them (`finish_reason`,
// `usage`), so that a client concatenating the chunks never sees a token
// twice.

#include <cstdint>
#include <string>
#include <vector>

namespace dine {

/// `{"text": text, "tokens": [ids]}`.
std::vector<uint8_t> encode_chunk_outputs(const std::string& text,
                                          const std::vector<int32_t>& tokens);

/// The generator's final outputs map without its `text` and `tokens`
/// entries. Input that is not a well-formed map is returned unchanged.
std::vector<uint8_t> stream_final_outputs(const std::vector<uint8_t>& outputs);

/// `{"finish_reason": "cancelled", "usage": {"completion_tokens": n}}`: the
/// final frame of a stream the front door cancelled after `n` tokens.
std::vector<uint8_t> cancelled_outputs(uint32_t completion_tokens);

/// `{"cancelled": found}`: the reply to the `cancel` op.
std::vector<uint8_t> cancel_op_outputs(bool found);

} // namespace dine
