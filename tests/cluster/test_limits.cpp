// dine-node's exit statuses and a connection's backpressure, against real
// processes (docs/operations.md "Stopping", docs/protocol.md).

#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "harness.hpp"
#include "messages/errc.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

/// Runs `dine-node args` to its end (at most 30 s) and returns its exit
/// status, or -1 if it did not exit normally.
int run_node(const std::string& args) {
  auto cmd = "timeout 30 " + bin("dine-node") + " " + args + " >/dev/null 2>&1";
  auto status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

TEST_CASE("exit status 2 for a bad configuration, 1 for a port in use") {
  CHECK(run_node("--role=all --client-port=abc") == 2);
  CHECK(run_node("--role=all --no-such-key=1") == 2);
  temp_dir dir;
  node_process first{dir.path(),
                     "first",
                     {"--role=all", "--client-port=0", "--listen=127.0.0.1:0"}};
  CHECK(run_node("--role=all --listen=127.0.0.1:0 --client-port=" +
                 std::to_string(first.client_port())) == 1);
}

TEST_CASE("exit status 4 when the drain times out with work in flight") {
  temp_dir dir;
  node_process node{dir.path(),
                    "all",
                    {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
                     "--model.sleep.fixed-us=5000000",
                     "--model.sleep.per-item-us=0", "--drain-timeout-ms=300"}};
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", node.client_port(), 5s).empty());
  client_request req;
  req.id = 1;
  req.model = "sleep";
  req.cache = false;
  std::vector<char> buf;
  append_request(buf, req);
  REQUIRE(conn.send_frames(buf).empty());
  REQUIRE(wait_inflight(node.client_port(), 1));
  node.signal(SIGTERM);
  auto status = node.wait_exit(15s);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 4);
}

TEST_CASE("a connection at max-inflight-per-connection is not read until "
          "half its requests are answered, then all are answered") {
  temp_dir dir;
  node_process node{dir.path(),
                    "all",
                    {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
                     "--max-inflight-per-connection=16",
                     "--model.sleep.fixed-us=100000",
                     "--model.sleep.per-item-us=0",
                     "--model.sleep.max-batch-size=4", "--capacity=1"}};
  auto port = node.client_port();
  // 200 requests of about 1 KiB each: one read holds at most 8 of them.
  constexpr uint64_t count = 200;
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", port, 5s).empty());
  std::vector<char> buf;
  for (uint64_t i = 1; i <= count; ++i) {
    client_request req;
    req.id = i;
    req.model = "sleep";
    req.cache = false;
    auto pad = nlohmann::json::to_msgpack(
        nlohmann::json{{"i", i}, {"pad", std::string(1000, 'x')}});
    req.inputs.assign(pad.begin(), pad.end());
    append_request(buf, req);
  }
  std::thread writer{[&] { conn.send_frames(buf, 60s); }};
  // While the model works through them, the coordinator never holds more
  // than the limit plus what one read (8 KiB) can carry.
  uint64_t most = 0;
  for (int i = 0; i < 30; ++i) {
    auto n = op(port, op_code::stats)["requests"]["inflight"].get<uint64_t>();
    most = std::max(most, n);
    std::this_thread::sleep_for(20ms);
  }
  CHECK(most > 0);
  CHECK(most <= 16 + 8);
  std::map<uint64_t, int> seen;
  for (uint64_t i = 0; i < count; ++i) {
    client_reply rep;
    auto err = conn.read_reply(rep, 30s);
    REQUIRE_MESSAGE(err.empty(), err);
    CHECK(rep.code == 0);
    ++seen[rep.id];
  }
  writer.join();
  CHECK(seen.size() == count);
}

TEST_CASE("a client that does not read its replies is no longer read once "
          "4 MiB of replies wait, it gets every reply when it reads") {
  temp_dir dir;
  node_process node{dir.path(),
                    "all",
                    {"--role=all", "--client-port=0", "--listen=127.0.0.1:0"}};
  auto port = node.client_port();
  constexpr uint64_t count = 60000; // about 60 MiB of requests and replies
  std::vector<char> buf;
  for (uint64_t i = 1; i <= count; ++i) {
    client_request req;
    req.id = i;
    req.model = "echo";
    req.cache = false;
    auto in = nlohmann::json::to_msgpack(
        nlohmann::json{{"i", i}, {"pad", std::string(1000, 'x')}});
    req.inputs.assign(in.begin(), in.end());
    append_request(buf, req);
  }
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", port, 5s).empty());
  // Write everything from another thread straight to the socket, without
  // reading; it blocks once the node stops reading.
  std::string write_error;
  std::thread writer{[&, fd = conn.fd()] {
    size_t off = 0;
    auto until = std::chrono::steady_clock::now() + 60s;
    while (off < buf.size() && std::chrono::steady_clock::now() < until) {
      auto n = ::send(fd, buf.data() + off, buf.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        write_error = std::strerror(errno);
        return;
      }
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
    }
    if (off < buf.size())
      write_error = "not all written in 60 s";
  }};
  // The node accepts requests until replies pile up, then stops reading.
  auto accepted = [&] {
    return op(port, op_code::stats)["requests"]["accepted"].get<uint64_t>();
  };
  uint64_t last = 0;
  int still = 0;
  auto until = std::chrono::steady_clock::now() + 20s;
  while (still < 5 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(100ms);
    auto now = accepted();
    still = now == last && now > 0 ? still + 1 : 0;
    last = now;
  }
  MESSAGE("accepted while the client did not read: " << last);
  CHECK(still >= 5);  // it stopped reading ...
  CHECK(last > 1000); // ... after serving a good part, and before 16 MiB
  // of replies: 4 MiB wait in the node, at most 4 MiB in its socket's send
  // buffer (tcp_wmem here), the rest in the client's receive buffer, which
  // does not grow while nothing reads it. Without the limit on unsent
  // replies the node took 30-40k.
  CHECK(last < 16000);
  // Reading the replies resumes it: every request is answered, once.
  std::vector<char> seen(count + 1, 0);
  uint64_t bad = 0;
  for (uint64_t k = 0; k < count; ++k) {
    client_reply rep;
    auto err = conn.read_reply(rep, 30s);
    REQUIRE_MESSAGE(err.empty(), err);
    if (rep.id < 1 || rep.id > count || rep.code != 0)
      ++bad;
    else
      ++seen[rep.id];
  }
  writer.join();
  CHECK(write_error.empty());
  CHECK(bad == 0);
  CHECK(std::count(seen.begin() + 1, seen.end(), 1) == count);
}
