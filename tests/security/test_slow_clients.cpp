// Slow clients (docs/security.md, "Slow clients"): a connection that sends
// part of a frame and stalls, or dribbles it a byte at a time, and a TLS
// connection that never finishes its handshake (client port and HTTPS
// port), are closed after client-frame-timeout-ms / client-handshake-
// timeout-ms and counted in `stats`; idle connections are kept and served.
// Real processes, real sockets, real OpenSSL.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "messages/errc.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/frame.hpp"
#include "runtime/tls_context.hpp"
#include "runtime/wire.hpp"
#include "security_util.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

using strings = std::vector<std::string>;

int tcp_connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  return fd;
}

/// Reads from `fd` until the peer closes it or `timeout` passes; returns
/// whether it closed, and everything read in `got`.
bool wait_closed(int fd, std::chrono::milliseconds timeout,
                 std::string* got = nullptr) {
  auto until = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      return true;
    if (got)
      got->append(buf, static_cast<size_t>(n));
  }
  return false;
}

/// Whether `fd` is still open after `d` (no EOF, no reset, nothing read).
bool still_open_after(int fd, std::chrono::milliseconds d) {
  return !wait_closed(fd, d);
}

/// The `client_port` entry of `stats` over `conn`.
nlohmann::json port_stats(client_conn& conn) {
  client_request req;
  req.id = 99;
  req.op = op_code::stats;
  auto rep = ask(conn, req);
  REQUIRE(rep.code == 0);
  return nlohmann::json::from_msgpack(rep.outputs)["client_port"];
}

/// The first `n` bytes of an echo frame.
std::string frame_prefix(size_t n) {
  std::vector<char> buf;
  append_request(buf, echo(1, "slowloris"));
  REQUIRE(buf.size() > n);
  return std::string(buf.begin(), buf.begin() + static_cast<long>(n));
}

} // namespace

TEST_CASE("slow clients: a stalled or dribbled frame closes, idle is kept") {
  temp_dir dir;
  node_process node{dir.path(), "node",
                    strings{"--role=all", "--client-port=0", "--models=echo",
                            "--client-frame-timeout-ms=1000"}};
  auto port = node.client_port();
  // Idle (nothing sent) and a connection that completed a request: kept.
  int idle = tcp_connect(port);
  client_conn busy;
  REQUIRE(busy.connect("127.0.0.1", port, 20s).empty());
  CHECK(ask(busy, echo(1, "before")).code == 0);
  // A partial frame, then nothing: answered deadline_exceeded, closed.
  int stalled = tcp_connect(port);
  auto part = frame_prefix(7);
  REQUIRE(::send(stalled, part.data(), part.size(), MSG_NOSIGNAL) == 7);
  std::string got;
  CHECK(wait_closed(stalled, 30s, &got));
  ::close(stalled);
  frame_reader rd{1u << 20};
  std::vector<char> body;
  REQUIRE(rd.consume(got.data(), got.size(),
                     [&](const char* b, size_t n) { body.assign(b, b + n); }));
  client_reply rep;
  REQUIRE_FALSE(body.empty());
  REQUIRE(decode_reply(body.data(), body.size(), rep));
  CHECK(rep.code == static_cast<uint8_t>(errc::deadline_exceeded));
  CHECK(rep.message.find("client-frame-timeout-ms") != std::string::npos);
  // Slowloris: a byte every 200 ms never completes the frame in time.
  int drip = tcp_connect(port);
  auto whole = frame_prefix(30);
  bool closed = false;
  auto until = std::chrono::steady_clock::now() + 30s;
  for (size_t i = 0; !closed && std::chrono::steady_clock::now() < until;
       i = std::min(i + 1, whole.size() - 1)) {
    if (::send(drip, whole.data() + i, 1, MSG_NOSIGNAL) != 1)
      break; // reset by the node
    closed = wait_closed(drip, 200ms);
  }
  CHECK((closed || wait_closed(drip, 10s)));
  ::close(drip);
  // The idle ones outlived the bound several times and are still served.
  CHECK(still_open_after(idle, 500ms));
  std::vector<char> buf;
  append_request(buf, echo(2, "idle"));
  REQUIRE(::send(idle, buf.data(), buf.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(buf.size()));
  std::string answer;
  auto t0 = std::chrono::steady_clock::now();
  while (answer.find("idle") == std::string::npos &&
         std::chrono::steady_clock::now() < t0 + 20s) {
    pollfd p{idle, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char b[512];
      auto n = ::recv(idle, b, sizeof(b), 0);
      if (n <= 0)
        break;
      answer.append(b, static_cast<size_t>(n));
    }
  }
  CHECK(answer.find("idle") != std::string::npos);
  ::close(idle);
  CHECK(ask(busy, echo(3, "after")).code == 0);
  auto st = port_stats(busy);
  CHECK(st["stalled_frames"].get<uint64_t>() >= 2);
  CHECK(st["handshake_timeouts"].get<uint64_t>() == 0);
}

TEST_CASE("slow clients: a TLS handshake that never finishes is closed") {
  temp_dir dir;
  auto certs = dir.path() + "/certs/";
  REQUIRE(std::system((std::string{DINE_SOURCE_DIR} + "/tools/mkcerts.sh " +
                       certs + " coord >/dev/null 2>&1")
                          .c_str()) == 0);
  node_process node{dir.path(), "node",
                    strings{"--role=all", "--client-port=0", "--models=echo",
                            "--http-port=0", "--http-idle-timeout-ms=600000",
                            "--client-tls", "--tls-cert=" + certs + "coord.pem",
                            "--tls-key=" + certs + "coord.key",
                            "--tls-ca=" + certs + "ca.pem",
                            "--client-handshake-timeout-ms=1000"}};
  auto port = node.client_port();
  auto http = static_cast<uint16_t>(node.ready().value("http_port", 0));
  REQUIRE(http != 0);
  auto ctx = tls_context::client(certs + "ca.pem", "coord");
  REQUIRE(ctx);
  // A client that finished its handshake and then idles is kept.
  client_conn ok;
  ok.use_tls(*ctx);
  REQUIRE(ok.connect("127.0.0.1", port, 20s).empty());
  // Nothing at all, and the first bytes of a ClientHello: both closed, on
  // the client port and on the HTTPS port (whose idle timeout is 10 min).
  int silent = tcp_connect(port);
  int partial = tcp_connect(port);
  int https = tcp_connect(http);
  auto hello = unhex("160301020001");
  REQUIRE(::send(partial, hello.data(), hello.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(hello.size()));
  CHECK(wait_closed(silent, 30s));
  CHECK(wait_closed(partial, 30s));
  CHECK(wait_closed(https, 30s));
  ::close(silent);
  ::close(partial);
  ::close(https);
  CHECK(ask(ok, echo(1, "still here")).code == 0);
  auto st = port_stats(ok);
  CHECK(st["handshake_timeouts"].get<uint64_t>() >= 3);
  CHECK(st["stalled_frames"].get<uint64_t>() == 0);
}
