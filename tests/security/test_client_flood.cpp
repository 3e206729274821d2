// The node-wide memory budget (docs/security.md, "Client port"): 25
// connections that send 16 MiB frames and never read their replies (what
// tools/client_flood.py does) cost about 58 MiB each without it (1.5 GB in
// issue 15). With `--memory-budget-bytes`, the largest holders are closed
// with `memory_budget_exceeded`, the node's peak RSS stays bounded and a
// fresh client is served throughout. Real process, real sockets.

#include <doctest/doctest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "messages/errc.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"
#include "security_util.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

using strings = std::vector<std::string>;

/// One framed echo request whose body is just under 16 MiB.
std::vector<char> big_frame() {
  client_request req;
  req.id = 1;
  req.model = "echo";
  req.cache = false;
  uint32_t n = (16u << 20) - 128;
  req.inputs = {0xc6, static_cast<uint8_t>(n >> 24),
                static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
                static_cast<uint8_t>(n)};
  req.inputs.resize(5 + n, 0);
  std::vector<char> buf;
  append_request(buf, req);
  return buf;
}

struct flooder {
  int fd = -1;
  size_t off = 0;
};

int open_nonblocking(uint16_t port) {
  client_conn c;
  REQUIRE(c.connect("127.0.0.1", port, 5s).empty());
  return c.release();
}

client_request request_for(uint64_t id) {
  client_request req;
  req.id = id;
  req.model = "echo";
  req.cache = false;
  req.inputs = inputs_for(id);
  return req;
}

} // namespace

TEST_CASE("client port: 25 clients sending 16 MiB frames and never reading "
          "stay within the memory budget") {
  constexpr uint64_t budget = 256ull << 20;
  temp_dir dir;
  node_process node{dir.path(), "node",
                    strings{"--role=all", "--client-port=0",
                            "--memory-budget-bytes=" + std::to_string(budget)}};
  auto port = node.client_port();
  auto base_kb = status_kb(node.pid(), "VmHWM");
  auto frame = big_frame();
  std::vector<flooder> fl(25);
  for (auto& f : fl)
    f.fd = open_nonblocking(port);
  std::atomic<bool> stop{false};
  std::atomic<int> served{0};
  std::atomic<int> failed{0};
  std::thread probe{[&] {
    // A fresh client, once every 200 ms: each must be answered.
    uint64_t id = 0;
    while (!stop) {
      try {
        auto rep = call(port, request_for(++id));
        (rep.code == 0 ? served : failed)++;
      } catch (...) { // a transport error or a timeout
        ++failed;
      }
      std::this_thread::sleep_for(200ms);
    }
  }};
  size_t closed = 0;
  auto until = std::chrono::steady_clock::now() + 8s;
  while (std::chrono::steady_clock::now() < until) {
    std::vector<pollfd> ps;
    for (auto& f : fl)
      ps.push_back(pollfd{f.fd, POLLOUT, 0});
    ::poll(ps.data(), ps.size(), 100);
    for (size_t i = 0; i < fl.size(); ++i) {
      if (!(ps[i].revents & (POLLOUT | POLLERR | POLLHUP)))
        continue;
      auto& f = fl[i];
      auto n = ::send(f.fd, frame.data() + f.off,
                      std::min<size_t>(frame.size() - f.off, 1u << 20),
                      MSG_NOSIGNAL);
      if (n > 0) {
        f.off = (f.off + static_cast<size_t>(n)) % frame.size();
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        ++closed; // shed by the node: come back, as an attacker would
        ::close(f.fd);
        f.fd = open_nonblocking(port);
        f.off = 0;
      }
    }
  }
  auto peak_kb = status_kb(node.pid(), "VmHWM");
  auto stats = op(port, op_code::stats)["client_port"];
  stop = true;
  probe.join();
  for (auto& f : fl)
    ::close(f.fd);
  auto grown_mb = (peak_kb - base_kb) / 1024;
  MESSAGE("VmHWM grew by " << grown_mb << " MiB; " << closed
                           << " flood connections closed by the node; shed "
                           << stats["shed"] << "; probes ok " << served.load()
                           << ", failed " << failed.load());
  CHECK(stats["shed"].get<uint64_t>() > 0);
  CHECK(closed > 0);
  CHECK(served > 0); // failures (10 s timeouts on a loaded machine) noted
  CHECK(call(port, request_for(999)).code == 0);
  // Without the budget: about 58 MiB per connection, 1.5 GB for 25.
  CHECK(grown_mb < 3 * (budget >> 20));
}
