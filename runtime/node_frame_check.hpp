#pragma once

// node_frame_check: the decisions of the node-port guard (actors/
// node_guard.hpp), without sockets or CAF. Every BASP frame header that
// reaches a node port is checked here before CAF allocates for its payload
// (docs/security.md, "Node ports").

#include <cstddef>
#include <cstdint>

namespace dine {

/// Size of a BASP header in CAF 0.17.6 (operation, 2 padding bytes, flags,
/// payload length, operation data, source and destination actor ids).
constexpr size_t basp_header_size = 32;

/// Highest BASP operation CAF 0.17.6 knows (`heartbeat` = 6).
constexpr uint8_t basp_max_operation = 6;

/// The default of `max-node-frame`: the largest BASP payload a node reads.
constexpr uint32_t default_max_node_frame = 16u << 20;

/// What the guard makes of one header or read request.
enum class frame_verdict : uint8_t {
  ok,
  unknown_operation, ///< Operation byte > 6.
  too_large,         ///< Payload length > max-node-frame.
  not_handshake,     ///< The first frame of a connection is no handshake.
};

/// A human-readable reason for a verdict (logged when a peer is dropped).
const char* to_string(frame_verdict x);

/// Checks the frames of one node connection.
class node_frame_check {
public:
  explicit node_frame_check(uint32_t max_payload = default_max_node_frame)
      : max_payload_(max_payload) {}

  /// Checks one complete read the BASP broker asked for. It follows the
  /// broker's own state machine: a header, then (if its payload length is
  /// not 0) exactly that payload, then a header again. A header must be
  /// `basp_header_size` bytes with a known operation, a payload of at most
  /// max-node-frame bytes, and the first one must be a handshake.
  frame_verdict on_read(const char* bytes, size_t n);

  /// Checks one complete header (as `on_read` does for headers).
  frame_verdict check_header(const char* bytes, size_t n);

  /// Whether CAF may size a read of the connection to `n` bytes: a header
  /// or a payload within max-node-frame.
  bool allows_read(size_t n) const {
    return n <= basp_header_size || n <= max_payload_;
  }

  /// The payload length of the last accepted header.
  uint32_t last_payload() const { return last_payload_; }

  uint32_t max_payload() const { return max_payload_; }

private:
  uint32_t max_payload_;
  uint32_t last_payload_ = 0;
  bool first_ = true;
  bool payload_next_ = false;
};

} // namespace dine
