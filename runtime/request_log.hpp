#pragma once

// One log line per sampled or failed request (docs/operations.md, "Request
// logs"): trace id, model, worker, timings stages and outcome, as a JSON
// object or as `key=value` text.

#include <cstdint>
#include <string>

#include "messages/client.hpp"
#include "runtime/log_sink.hpp"
#include "runtime/trace_id.hpp"

namespace dine {

/// Whether a request whose reply has `code` and whose trace id is `trace`
/// is logged with sample rate `rate` (0..1): failed ones always; ok ones
/// when a hash of the trace id falls below `rate` (so one trace id is
/// logged, or not, on every node alike).
bool should_log(const std::string& trace, uint8_t code, double rate);

/// The log line of the final reply `r` (its `trace` set) of a request of
/// `model`, without the newline. `json`: one JSON object; else text.
std::string request_log_line(const std::string& model, const client_reply& r,
                             bool json);

/// Escapes `s` as the inside of a JSON string (bytes >= 0x80 as \u00XX,
/// so that any input gives valid JSON).
std::string json_escape(const std::string& s);

} // namespace dine
