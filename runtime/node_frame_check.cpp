#include "runtime/node_frame_check.hpp"

namespace dine {

const char* to_string(frame_verdict x) {
  switch (x) {
  case frame_verdict::ok:
    return "ok";
  case frame_verdict::unknown_operation:
    return "unknown BASP operation";
  case frame_verdict::too_large:
    return "payload larger than max-node-frame";
  case frame_verdict::not_handshake:
    return "first frame is no handshake";
  }
  return "?";
}

frame_verdict node_frame_check::on_read(const char* bytes, size_t n) {
  if (payload_next_) {
    payload_next_ = false;
    return n == last_payload_ ? frame_verdict::ok : frame_verdict::too_large;
  }
  auto v = check_header(bytes, n);
  payload_next_ = v == frame_verdict::ok && last_payload_ > 0;
  return v;
}

frame_verdict node_frame_check::check_header(const char* bytes, size_t n) {
  if (n != basp_header_size)
    return frame_verdict::unknown_operation;
  auto op = static_cast<uint8_t>(bytes[0]);
  if (op > basp_max_operation)
    return frame_verdict::unknown_operation;
  // Byte 0 is the operation, bytes 4-7 the payload length in network byte
  // order (CAF's binary serializer writes integers big-endian).
  auto b = [&](size_t i) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[i]));
  };
  uint32_t len = (b(4) << 24) | (b(5) << 16) | (b(6) << 8) | b(7);
  if (len > max_payload_)
    return frame_verdict::too_large;
  // operation 0 = server_handshake, 1 = client_handshake.
  if (first_ && op > 1)
    return frame_verdict::not_handshake;
  first_ = false;
  last_payload_ = len;
  return frame_verdict::ok;
}

} // namespace dine
