#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dine::bench {

/// The parts of a reply the load generator needs.
struct reply_summary {
  uint64_t id = 0;
  bool ok = false;
  std::string_view code; ///< `error.code` when not ok (points into the body).
};

/// Extracts id, ok and the error code from a reply body without allocating.
/// Stops as soon as it has them (the server writes id and ok first), so
/// large outputs are not walked. Returns false for a malformed reply.
bool scan_reply(const char* body, size_t size, reply_summary& out);

} // namespace dine::bench
