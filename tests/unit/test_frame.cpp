// Frame splitting (runtime/frame.hpp) and the blocking client connection
// (runtime/client_conn.hpp) against an in-process listener.

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "runtime/client_conn.hpp"
#include "runtime/frame.hpp"
#include "runtime/wire.hpp"

using namespace dine;

namespace {

std::string frame(const std::string& body) {
  uint32_t len = htonl(static_cast<uint32_t>(body.size()));
  std::string out(reinterpret_cast<const char*>(&len), 4);
  return out + body;
}

std::string header(uint32_t len) {
  len = htonl(len);
  return std::string(reinterpret_cast<const char*>(&len), 4);
}

/// Feeds `chunks` to a fresh reader and collects the bodies.
struct collector {
  frame_reader rd;
  std::vector<std::string> bodies;
  explicit collector(uint32_t max = default_max_frame) : rd(max) {}
  bool feed(const std::string& chunk) {
    return rd.consume(chunk.data(), chunk.size(), [&](const char* p, size_t n) {
      bodies.emplace_back(p, n);
    });
  }
};

} // namespace

TEST_CASE("frame_reader hands out several frames of one read") {
  collector c;
  auto stream = frame("hello") + frame("") + frame(std::string(300, 'x'));
  CHECK(c.feed(stream));
  REQUIRE(c.bodies.size() == 3);
  CHECK(c.bodies[0] == "hello");
  CHECK(c.bodies[1].empty());
  CHECK(c.bodies[2] == std::string(300, 'x'));
  CHECK(c.rd.buffered() == 0);
}

TEST_CASE("frame_reader reassembles frames split at every byte offset") {
  std::vector<std::string> want{"a", "", std::string(70, 'b'), "msgpack!"};
  std::string stream;
  for (auto& b : want)
    stream += frame(b);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    CAPTURE(cut);
    collector c;
    CHECK(c.feed(stream.substr(0, cut)));
    CHECK(c.feed(stream.substr(cut)));
    CHECK(c.bodies == want);
    CHECK(c.rd.buffered() == 0);
  }
  // Two cuts: every frame boundary and mid-header position is covered.
  for (size_t a = 0; a <= stream.size(); a += 3)
    for (size_t b = a; b <= stream.size(); b += 5) {
      collector c;
      CHECK(c.feed(stream.substr(0, a)));
      CHECK(c.feed(stream.substr(a, b - a)));
      CHECK(c.feed(stream.substr(b)));
      CHECK(c.bodies == want);
    }
}

TEST_CASE("frame_reader reassembles a stream fed one byte at a time") {
  collector c;
  auto stream = frame("xyz") + frame("") + frame("0123456789");
  for (size_t i = 0; i < stream.size(); ++i) {
    CHECK(c.feed(stream.substr(i, 1)));
    CHECK(c.rd.buffered() <= 13);
  }
  CHECK(c.bodies == std::vector<std::string>{"xyz", "", "0123456789"});
  CHECK(c.rd.buffered() == 0);
}

TEST_CASE("frame_reader keeps only the bytes of an incomplete frame") {
  collector c;
  CHECK(c.feed(frame("done") + header(100) + "abc"));
  CHECK(c.bodies == std::vector<std::string>{"done"});
  CHECK(c.rd.buffered() == 7);
  CHECK(c.feed(std::string(97, 'z')));
  REQUIRE(c.bodies.size() == 2);
  CHECK(c.bodies[1] == "abc" + std::string(97, 'z'));
  CHECK(c.rd.buffered() == 0);
}

TEST_CASE("frame_reader rejects an oversize length from its header alone") {
  SUBCASE("4 GiB claimed, header fed byte by byte") {
    collector c;
    auto h = header(0xFFFFFFFFu);
    CHECK(c.feed(h.substr(0, 1)));
    CHECK(c.feed(h.substr(1, 1)));
    CHECK(c.feed(h.substr(2, 1)));
    CHECK_FALSE(c.feed(h.substr(3, 1)));
    CHECK(c.rd.rejected_length() == 0xFFFFFFFFu);
    CHECK(c.rd.buffered() <= 4);
    CHECK(c.bodies.empty());
  }
  SUBCASE("4 GiB claimed in one read") {
    collector c;
    CHECK_FALSE(c.feed(header(0xFFFFFFFFu)));
    CHECK(c.rd.buffered() <= 4);
  }
  SUBCASE("default maximum: 16 MiB passes, one byte more does not") {
    collector ok;
    CHECK(ok.feed(header(default_max_frame)));
    CHECK(ok.rd.buffered() == 4); // no allocation for the claimed length
    collector bad;
    CHECK_FALSE(bad.feed(header(default_max_frame + 1)));
    CHECK(bad.rd.rejected_length() == default_max_frame + 1);
  }
  SUBCASE("custom maximum; earlier frames of the read are delivered") {
    collector c{10};
    CHECK(c.feed(frame(std::string(10, 'k'))));
    CHECK_FALSE(c.feed(frame("ok") + frame(std::string(11, 'k'))));
    CHECK(c.bodies.size() == 2);
    CHECK(c.rd.rejected_length() == 11);
  }
}

TEST_CASE("begin_frame and end_frame write a big-endian length") {
  std::vector<char> buf{'p'};
  auto off = begin_frame(buf);
  CHECK(off == 1);
  buf.insert(buf.end(), 258, 'x');
  end_frame(buf, off);
  CHECK(static_cast<uint8_t>(buf[1]) == 0);
  CHECK(static_cast<uint8_t>(buf[2]) == 0);
  CHECK(static_cast<uint8_t>(buf[3]) == 1);
  CHECK(static_cast<uint8_t>(buf[4]) == 2);
}

TEST_CASE("split_host_port") {
  std::string host;
  uint16_t port = 0;
  CHECK(split_host_port("127.0.0.1:4000", host, port).empty());
  CHECK(host == "127.0.0.1");
  CHECK(port == 4000);
  CHECK(split_host_port("[::1]:65535", host, port).empty());
  CHECK(host == "::1");
  CHECK(port == 65535);
  CHECK_FALSE(split_host_port("localhost", host, port).empty());
  CHECK_FALSE(split_host_port("h:0", host, port).empty());
  CHECK_FALSE(split_host_port("h:65536", host, port).empty());
  CHECK_FALSE(split_host_port("h:12x", host, port).empty());
  CHECK_FALSE(split_host_port(":80", host, port).empty());
}

namespace {

/// A listening socket on 127.0.0.1 with an OS-assigned port.
struct listener {
  int fd = -1;
  uint16_t port = 0;
  listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~listener() { ::close(fd); }
};

void write_all(int fd, const std::vector<char>& buf, size_t from, size_t to) {
  while (from < to) {
    auto n = ::write(fd, buf.data() + from, to - from);
    REQUIRE(n > 0);
    from += static_cast<size_t>(n);
  }
}

} // namespace

TEST_CASE("client_conn reads replies, times out and notices a close") {
  listener srv;
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", srv.port, std::chrono::seconds{2}).empty());
  int peer = ::accept(srv.fd, nullptr, nullptr);
  REQUIRE(peer >= 0);
  // The client's request arrives as one frame.
  client_request req;
  req.id = 5;
  req.model = "echo";
  std::vector<char> out;
  append_request(out, req);
  CHECK(conn.send_frames(out).empty());
  std::vector<char> got(out.size());
  size_t n = 0;
  while (n < got.size()) {
    auto r = ::read(peer, got.data() + n, got.size() - n);
    REQUIRE(r > 0);
    n += static_cast<size_t>(r);
  }
  CHECK(got == out);
  // Two replies, the first one split in the middle of its header.
  client_reply a;
  a.id = 7;
  a.worker = "w1";
  client_reply b;
  b.id = 8;
  b.code = 3;
  b.message = "nope";
  std::vector<char> in;
  append_reply(in, a);
  append_reply(in, b);
  write_all(peer, in, 0, 2);
  write_all(peer, in, 2, in.size());
  client_reply r;
  CHECK(conn.read_reply(r, std::chrono::seconds{2}).empty());
  CHECK(r.id == 7);
  CHECK(r.worker == "w1");
  CHECK(conn.read_reply(r, std::chrono::seconds{2}).empty());
  CHECK(r.id == 8);
  CHECK(r.code == 3);
  CHECK(r.message == "nope");
  // Nothing more: a timeout keeps the connection.
  CHECK_FALSE(conn.read_reply(r, std::chrono::milliseconds{30}).empty());
  CHECK(conn.timed_out());
  CHECK(conn.connected());
  ::close(peer);
  auto err = conn.read_reply(r, std::chrono::seconds{2});
  CHECK(err.find("closed") != std::string::npos);
  CHECK_FALSE(conn.timed_out());
  CHECK_FALSE(conn.connected());
}

TEST_CASE("client_conn rejects an oversize reply length") {
  listener srv;
  client_conn conn{1024};
  REQUIRE(conn.connect("localhost", srv.port, std::chrono::seconds{2}).empty());
  int peer = ::accept(srv.fd, nullptr, nullptr);
  REQUIRE(peer >= 0);
  auto h = header(1025);
  REQUIRE(::write(peer, h.data(), 4) == 4);
  client_reply r;
  auto err = conn.read_reply(r, std::chrono::seconds{2});
  CHECK(err.find("1025") != std::string::npos);
  CHECK_FALSE(conn.connected());
  ::close(peer);
}

TEST_CASE("client_conn reports a refused connection") {
  uint16_t port;
  {
    listener tmp;
    port = tmp.port;
  } // closed: nothing listens there now
  client_conn conn;
  auto err = conn.connect("127.0.0.1", port, std::chrono::seconds{2});
  CHECK_FALSE(err.empty());
  CHECK_FALSE(conn.connected());
}
