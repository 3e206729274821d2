#pragma once

// The OpenAI-compatible bodies of `/v1/completions` and
// `/v1/chat/completions` (docs/http.md, "OpenAI-compatible routes"): request
// JSON -> the transformer's inputs (docs/models.md, "Requests"), and its
// outputs -> OpenAI's response and stream chunk objects. Pure functions.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace dine::http {

/// Which route.
enum class completion_kind { text, chat };

/// The chat template (docs/http.md): every message as
/// `<|ROLE|>\nCONTENT\n`, then `<|assistant|>\n`. Roles: system, user,
/// assistant (others are rejected). Sets `err` on bad input.
std::string chat_prompt(const nlohmann::json& messages, std::string& err);

/// A parsed completion request.
struct completion_request {
  std::string model;
  bool stream = false;
  nlohmann::json inputs; ///< The transformer's inputs map.
  std::string error;     ///< Non-empty: a 400 with this message.
};

/// Reads the body of a completion route. Only `n` = 1 is supported.
completion_request parse_completion(const nlohmann::json& body,
                                    completion_kind kind);

/// The response object of a non-streamed completion from the model's final
/// outputs (`text`, `finish_reason`, `usage`).
nlohmann::json completion_response(completion_kind kind, const std::string& id,
                                   const std::string& model, int64_t created,
                                   const nlohmann::json& outputs);

/// One stream chunk: `text` as the delta, `finish_reason` null unless
/// given; a chat stream's first chunk also carries the assistant role.
nlohmann::json completion_chunk(completion_kind kind, const std::string& id,
                                const std::string& model, int64_t created,
                                const std::string& text,
                                const std::string& finish_reason, bool first);

/// OpenAI's `usage` from the model's `usage` map.
nlohmann::json openai_usage(const nlohmann::json& usage);

} // namespace dine::http
