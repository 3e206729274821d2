#pragma once

// The HTTP status and JSON error body of each dine error code
// (docs/http.md, "Status codes").

#include <string>
#include <string_view>

#include "messages/errc.hpp"

namespace dine::http {

/// The HTTP status an `errc` maps to: 400 invalid_request/invalid_input,
/// 401 unauthorized, 403 forbidden, 404 unknown_model, 413
/// frame_too_large/value_too_large, 429 overloaded, 502
/// worker_failed/worker_lost, 503 unavailable/ shutting_down, 504
/// deadline_exceeded, 500 otherwise.
unsigned status_of(errc code);

/// `{"error": {"code", "message", "type", "param": null}}`: dine's error
/// shape and OpenAI's at once (`type` is OpenAI's error class).
std::string error_body(std::string_view code, std::string_view message);

/// `error_body` for an `errc`.
inline std::string error_body(errc code, std::string_view message) {
  return error_body(to_string(code), message);
}

} // namespace dine::http
