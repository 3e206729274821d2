#pragma once

// The W3C Trace Context `traceparent` header (docs/http.md, "Trace ids"):
// `VERSION-TRACEID-PARENTID-FLAGS`, e.g.
// `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`. The HTTP
// front door takes a valid header's trace id as the request's trace id and
// answers with a `traceparent` of its own (same trace id, a fresh parent
// id); a malformed header is ignored (the coordinator generates an id).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dine {

/// The fields of one `traceparent` header.
struct trace_parent {
  std::string trace_id;  ///< 32 lower-case hex digits, not all zero.
  std::string parent_id; ///< 16 lower-case hex digits, not all zero.
  uint8_t flags = 0;     ///< Bit 0: sampled.
};

/// Parses `text` by the W3C rules: version 2 hex digits (not `ff`);
/// version `00` has exactly four fields; a later version may append
/// `-...` fields, which are ignored. Hex digits must be lower case; an
/// all-zero trace or parent id is invalid. Returns nothing when invalid.
std::optional<trace_parent> parse_traceparent(std::string_view text);

/// Returns whether `s` is an acceptable trace id for a request (the wire's
/// and the HTTP body's `trace`, docs/protocol.md): 1-128 characters of
/// `[A-Za-z0-9._:-]`. It is echoed in replies and logs.
bool valid_trace(std::string_view s);

/// Returns whether `id` is a valid W3C trace id (32 lower-case hex digits,
/// not all zero): only such ids go into a `traceparent` header.
bool is_w3c_trace_id(std::string_view id);

/// The `traceparent` header `00-TRACE-SPAN-FLAGS`, with `span` written as
/// 16 hex digits (a zero `span` becomes 1). Requires
/// `is_w3c_trace_id(trace)`.
std::string make_traceparent(std::string_view trace, uint64_t span,
                             uint8_t flags);

} // namespace dine
