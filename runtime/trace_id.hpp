#pragma once

// The trace ids the coordinator gives requests that came without one
// (docs/operations.md, "Request logs"). A generated id travels as its
// number and is written out only where it is shown, so the hot path
// makes no string per request.

#include <cstdint>
#include <string>

#include "messages/client.hpp"

namespace dine {

/// Generates trace ids: 32 hex digits, this process's random 64-bit
/// prefix and a counter. A generated id travels as its number
/// (`client_reply::trace_n`) and is written out only where it is shown
/// (the wire, a log line): no string per request on the hot path.
class trace_ids {
public:
  /// The next number (never 0).
  uint64_t next() noexcept { return ++n_; }

  /// Writes the 32 hex digits of generated id `n` to `out`.
  static void write(uint64_t n, char* out) noexcept;

  /// The 32 hex digits of generated id `n`.
  static std::string text(uint64_t n);

private:
  uint64_t n_ = 0;
};

/// The trace id of `r`: its `trace`, else the generated one (`trace_n`),
/// else empty.
std::string trace_of(const client_reply& r);

} // namespace dine
