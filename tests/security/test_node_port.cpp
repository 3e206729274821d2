// A stranger on a node port (--listen) cannot take a node down: forged BASP
// headers claiming 1-4 GiB payloads and random bytes are dropped before CAF
// allocates for them (actors/node_guard.hpp, docs/security.md), and the node
// keeps serving clients and keeps its workers. Real processes and sockets.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "security_util.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

using strings = std::vector<std::string>;

/// Connects to 127.0.0.1:`port` and sends `bytes`; returns the socket or -1.
int send_to(uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  size_t off = 0;
  while (off < bytes.size()) {
    auto n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      break; // the node may already have dropped us
    off += static_cast<size_t>(n);
  }
  return fd;
}

/// Reads (and discards: the node's handshake may come first) until the
/// node closes the connection; false if it is still open after `timeout`.
bool closed_by_peer(int fd, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      return true; // EOF or reset
  }
  return false;
}

/// The attack of issue 15 on `port`: 16 connections with the forged 4 GiB
/// handshake header, 4 with a 1 GiB header of message type 2, and 16 with
/// 4 KiB of random bytes, all at once. Returns how many the node closed.
int attack(uint16_t port) {
  std::vector<std::string> payloads;
  auto forged =
      unhex("00000000ffffffff0000000000000001") + std::string(16, '\0');
  auto gib = unhex("0200000040000000") + std::string(24, '\0');
  for (int i = 0; i < 16; ++i)
    payloads.push_back(forged);
  for (int i = 0; i < 4; ++i)
    payloads.push_back(gib);
  std::mt19937 rng{15};
  for (int i = 0; i < 16; ++i) {
    std::string junk(4096, '\0');
    for (auto& c : junk)
      c = static_cast<char>(rng());
    payloads.push_back(junk);
  }
  std::vector<int> fds;
  for (auto& p : payloads)
    fds.push_back(send_to(port, p));
  int closed = 0;
  for (auto fd : fds) {
    if (fd >= 0 && closed_by_peer(fd, 5s))
      ++closed;
    if (fd >= 0)
      ::close(fd);
  }
  return closed;
}

/// Occurrences of `needle` in `text`.
size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (auto i = text.find(needle); i != std::string::npos;
       i = text.find(needle, i + 1))
    ++n;
  return n;
}

const strings timeouts{"--heartbeat-interval-ms=100",
                       "--connection-timeout-ms=1000"};

strings with(strings xs, const strings& more) {
  xs.insert(xs.end(), more.begin(), more.end());
  return xs;
}

/// Attacks `node_port`, then checks that the node `pid` dropped all 36
/// connections without growing by 64 MiB, and that the cluster behind
/// `client_port` still serves through `worker`.
void check_survives(pid_t pid, uint16_t node_port, uint16_t client_port,
                    const std::string& worker) {
  auto rss_before = status_kb(pid, "VmRSS");
  REQUIRE(rss_before > 0);
  CHECK(attack(node_port) == 36);
  // Longer than the connection timeout: a stalled node would lose its
  // peer now.
  std::this_thread::sleep_for(1500ms);
  check_serves(client_port, "echo", 200, worker);
  CHECK(wait_worker_count(client_port, 1, 1s));
  auto peak = status_kb(pid, "VmHWM");
  INFO("RSS before " << rss_before << " kB, peak after " << peak << " kB");
  CHECK(peak < rss_before + 64 * 1024);
}

} // namespace

TEST_CASE("forged 4 GiB BASP headers and garbage on a coordinator's node "
          "port: dropped, the coordinator keeps serving and its worker") {
  temp_dir dir;
  node_process coord{
      dir.path(), "coord",
      with({"--role=coordinator", "--client-port=0", "--listen=127.0.0.1:0"},
           timeouts)};
  node_process w1{
      dir.path(), "w1",
      with({"--role=worker",
            "--join=127.0.0.1:" + std::to_string(coord.cluster_port()),
            "--name=w1", "--models=echo"},
           timeouts)};
  auto port = coord.client_port();
  REQUIRE(wait_worker_count(port, 1, 5s));
  check_survives(coord.pid(), coord.cluster_port(), port, "w1");
  CHECK(count(w1.log(), "registered with") == 1); // never re-registered
  CHECK(count(coord.log(), "node port: dropped") == 36);
}

TEST_CASE("forged 4 GiB BASP headers and garbage on a static worker's node "
          "port: dropped, the worker keeps serving its coordinator") {
  temp_dir dir;
  node_process s1{dir.path(), "s1",
                  with({"--role=worker", "--listen=127.0.0.1:0", "--name=s1",
                        "--models=echo"},
                       timeouts)};
  node_process coord{
      dir.path(), "coord",
      with({"--role=coordinator", "--client-port=0", "--listen=127.0.0.1:0",
            "--worker=127.0.0.1:" + std::to_string(s1.cluster_port())},
           timeouts)};
  auto port = coord.client_port();
  REQUIRE(wait_worker_count(port, 1, 5s));
  check_survives(s1.pid(), s1.cluster_port(), port, "s1");
  CHECK(count(s1.log(), "node port: dropped") == 36);
}

TEST_CASE("max-node-frame: a cluster whose messages fit keeps working, and "
          "the limit is validated") {
  temp_dir dir;
  // The smallest allowed limit still carries handshakes and batches.
  node_process coord{dir.path(), "coord",
                     with({"--role=coordinator", "--client-port=0",
                           "--listen=127.0.0.1:0", "--max-node-frame=65536"},
                          timeouts)};
  node_process w1{
      dir.path(), "w1",
      with({"--role=worker",
            "--join=127.0.0.1:" + std::to_string(coord.cluster_port()),
            "--name=w1", "--models=echo", "--max-node-frame=65536"},
           timeouts)};
  REQUIRE(wait_worker_count(coord.client_port(), 1, 5s));
  check_serves(coord.client_port(), "echo", 200, "w1");
  CHECK(count(coord.log(), "node port: dropped") == 0);
  auto rc = std::system(("timeout 30 " + bin("dine-node") +
                         " --max-node-frame=100 --check >/dev/null 2>&1")
                            .c_str());
  CHECK(WEXITSTATUS(rc) == 2);
}
