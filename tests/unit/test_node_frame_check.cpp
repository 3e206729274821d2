// The node-port guard's decisions (runtime/node_frame_check.hpp): BASP
// headers as CAF 0.17.6 writes them, forged ones, and the header/payload
// state machine.

#include <doctest/doctest.h>

#include <string>

#include "runtime/node_frame_check.hpp"

using namespace dine;

namespace {

/// A BASP header: operation, 2 padding bytes, flags, payload length
/// (big-endian), 24 bytes of operation data and actor ids.
std::string header(uint8_t op, uint32_t len) {
  std::string h(basp_header_size, '\0');
  h[0] = static_cast<char>(op);
  h[4] = static_cast<char>(len >> 24);
  h[5] = static_cast<char>(len >> 16);
  h[6] = static_cast<char>(len >> 8);
  h[7] = static_cast<char>(len);
  h[15] = 1;
  return h;
}

frame_verdict feed(node_frame_check& c, const std::string& s) {
  return c.on_read(s.data(), s.size());
}

} // namespace

TEST_CASE("node frame check: the issue's forged 4 GiB handshake is too large") {
  node_frame_check c;
  CHECK(feed(c, header(0, 0xffffffffu)) == frame_verdict::too_large);
  node_frame_check d;
  CHECK(feed(d, header(1, 0xfffffff0u)) == frame_verdict::too_large);
}

TEST_CASE("node frame check: a payload of exactly max-node-frame is allowed") {
  node_frame_check c{1024};
  CHECK(feed(c, header(1, 1024)) == frame_verdict::ok);
  CHECK(c.last_payload() == 1024);
  node_frame_check d{1024};
  CHECK(feed(d, header(1, 1025)) == frame_verdict::too_large);
  CHECK(c.allows_read(1024));
  CHECK_FALSE(c.allows_read(1025));
  CHECK(c.allows_read(basp_header_size));
}

TEST_CASE("node frame check: unknown operations and short headers") {
  node_frame_check c;
  CHECK(feed(c, header(7, 0)) == frame_verdict::unknown_operation);
  node_frame_check d;
  CHECK(feed(d, header(0xff, 0)) == frame_verdict::unknown_operation);
  node_frame_check e;
  CHECK(feed(e, header(1, 0).substr(0, 31)) ==
        frame_verdict::unknown_operation);
}

TEST_CASE("node frame check: the first frame must be a handshake") {
  node_frame_check c;
  CHECK(feed(c, header(2, 16)) == frame_verdict::not_handshake);
  node_frame_check d;
  CHECK(feed(d, header(6, 0)) == frame_verdict::not_handshake);
}

TEST_CASE(
    "node frame check: headers and payloads alternate as BASP reads them") {
  node_frame_check c{4096};
  // A handshake whose payload is itself 32 bytes of anything: the payload
  // is not mistaken for a header.
  CHECK(feed(c, header(1, 32)) == frame_verdict::ok);
  CHECK(feed(c, std::string(32, '\xff')) == frame_verdict::ok);
  // A heartbeat (no payload), then a message with one.
  CHECK(feed(c, header(6, 0)) == frame_verdict::ok);
  CHECK(feed(c, header(2, 100)) == frame_verdict::ok);
  CHECK(feed(c, std::string(100, 'x')) == frame_verdict::ok);
  // The next header is checked again.
  CHECK(feed(c, header(2, 5000)) == frame_verdict::too_large);
}

TEST_CASE("node frame check: a payload of another size than announced") {
  node_frame_check c;
  CHECK(feed(c, header(1, 10)) == frame_verdict::ok);
  CHECK(feed(c, std::string(11, 'x')) != frame_verdict::ok);
}

TEST_CASE("node frame check: every verdict has a reason") {
  for (auto v : {frame_verdict::ok, frame_verdict::unknown_operation,
                 frame_verdict::too_large, frame_verdict::not_handshake})
    CHECK(std::string{to_string(v)} != "?");
}
