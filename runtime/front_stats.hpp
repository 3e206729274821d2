#pragma once

// Counters of the client port's refusals (docs/operations.md, "stats"):
// kept by the acceptor and the connection brokers (different threads, so
// atomics) and added to the `stats` op's reply as the `client_port` entry
// by the connection that forwards the reply.

#include <atomic>
#include <cstdint>
#include <vector>

namespace dine {

/// What the client port refused, and what it holds now.
struct front_stats {
  std::atomic<uint64_t> open{0};         ///< Connections open now.
  std::atomic<uint64_t> refused{0};      ///< Closed: too_many_connections.
  std::atomic<uint64_t> unauthorized{0}; ///< Requests or hellos refused.
  std::atomic<uint64_t> forbidden{0};    ///< Admin ops with a user key.
  std::atomic<uint64_t> shed{0};         ///< Closed: memory_budget_exceeded.
  std::atomic<uint64_t> too_large{0};    ///< Closed: frame_too_large.
  /// Closed: TLS handshake not done within client-handshake-timeout-ms
  /// (client port and HTTPS port).
  std::atomic<uint64_t> handshake_timeouts{0};
  /// Closed: a frame incomplete for client-frame-timeout-ms.
  std::atomic<uint64_t> stalled_frames{0};
};

/// Adds `"client_port": {...}` with `s`, `buffered` (bytes held now) and
/// `budget` (the limit) to the msgpack map in `stats`. Returns false (and
/// leaves `stats` alone) when `stats` does not start with a map header.
bool add_front_stats(std::vector<uint8_t>& stats, const front_stats& s,
                     uint64_t buffered, uint64_t budget);

} // namespace dine
