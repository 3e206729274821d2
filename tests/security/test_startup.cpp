// Safe start-up (docs/security.md): an embedded node without --listen opens
// no node port, so two of them on one host do not collide on 7401, and a
// config value with an unterminated quote stops the node with an error
// naming the key and the line, and a worker whose join target refuses or
// does not resolve logs every attempt with its reason and backs off. Real
// processes.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../cluster/harness.hpp"

using namespace dine;
using namespace dine::test;

namespace {

/// Socket inodes among the open files of `pid`.
std::set<std::string> socket_inodes(pid_t pid) {
  std::set<std::string> out;
  auto dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr)
    return out;
  while (auto* e = readdir(d)) {
    char buf[256] = {0};
    auto path = dir + "/" + e->d_name;
    auto n = readlink(path.c_str(), buf, sizeof(buf) - 1);
    std::string link{buf, n > 0 ? static_cast<size_t>(n) : 0};
    if (link.rfind("socket:[", 0) == 0)
      out.insert(link.substr(8, link.size() - 9));
  }
  closedir(d);
  return out;
}

/// TCP sockets of `pid` in state LISTEN (IPv4 and IPv6).
size_t listening_sockets(pid_t pid) {
  auto mine = socket_inodes(pid);
  size_t n = 0;
  for (auto table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in{table};
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
      std::istringstream ss{line};
      std::string sl, local, remote, st, queues, tr, retr, uid, timeout, inode;
      ss >> sl >> local >> remote >> st >> queues >> tr >> retr >> uid >>
          timeout >> inode;
      if (st == "0A" && mine.count(inode) > 0)
        ++n;
    }
  }
  return n;
}

} // namespace

TEST_CASE("--role=all without --listen opens only its client port, and two "
          "such nodes run side by side") {
  temp_dir dir;
  node_process a{dir.path(), "a", {"--role=all", "--client-port=0"}};
  node_process b{dir.path(), "b", {"--role=all", "--client-port=0"}};
  CHECK(a.cluster_port() == 0); // no cluster_port in the ready file
  CHECK(b.cluster_port() == 0);
  CHECK(listening_sockets(a.pid()) == 1);
  CHECK(listening_sockets(b.pid()) == 1);
  CHECK(a.log().find("no cluster endpoint") != std::string::npos);
  // Both serve.
  for (auto* n : {&a, &b}) {
    client_request req;
    req.id = 1;
    req.model = "echo";
    req.inputs = inputs_for(1);
    CHECK(call(n->client_port(), req).code == 0);
  }
  // With --listen the node port is there, and workers can join it.
  node_process c{dir.path(),
                 "c",
                 {"--role=all", "--client-port=0", "--listen=127.0.0.1:0"}};
  CHECK(c.cluster_port() != 0);
  CHECK(listening_sockets(c.pid()) == 2);
}

TEST_CASE("a coordinator still opens its node port by default") {
  temp_dir dir;
  // Port 0 so that the test does not depend on 7401 being free.
  node_process coord{
      dir.path(),
      "coord",
      {"--role=coordinator", "--client-port=0", "--listen=127.0.0.1:0"}};
  CHECK(coord.cluster_port() != 0);
  CHECK(listening_sockets(coord.pid()) == 2);
}

TEST_CASE("a config value with an unterminated quote stops dine-node with "
          "an error naming the key and the line") {
  temp_dir dir;
  auto conf = dir.path() + "/bad.ini";
  {
    std::ofstream out{conf};
    out << "[node]\nrole = all\nname = \"unterminated\n";
  }
  auto log = dir.path() + "/out.txt";
  auto rc = std::system(("timeout 30 " + bin("dine-node") +
                         " --config=" + conf + " --check >" + log + " 2>&1")
                            .c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 2);
  std::ifstream in{log};
  std::string text{std::istreambuf_iterator<char>{in},
                   std::istreambuf_iterator<char>{}};
  CHECK(text.find("bad.ini:3") != std::string::npos);
  CHECK(text.find("`name`") != std::string::npos);
  CHECK(text.find("unterminated quote") != std::string::npos);
}

namespace {

/// Lines of `text` that contain `needle`.
std::vector<std::string> lines_with(const std::string& text,
                                    const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos)
      out.push_back(line);
  return out;
}

/// The delay of a retry line (`...; retrying in N ms`), or -1.
long retry_delay(const std::string& line) {
  auto pos = line.find("; retrying in ");
  if (pos == std::string::npos)
    return -1;
  return std::atol(line.c_str() + pos + 14);
}

/// Runs a worker joining `target` for 6 s (it never becomes ready: a
/// worker writes its ready file once registered) and checks that it logged
/// at least four failed attempts, each naming the target and a reason, that
/// the delays back off, and that it was still retrying when killed.
void check_join_retries_logged(const std::string& target) {
  temp_dir dir;
  auto log = dir.path() + "/worker.log";
  auto rc = std::system(("timeout -s KILL 6 " + bin("dine-node") +
                         " --role=worker --join=" + target +
                         // a name that does not resolve is not loopback:
                         // plaintext to it needs --insecure (docs/security.md)
                         " --insecure --models=echo --reconnect-max-ms=400 >" +
                         log + " 2>&1")
                            .c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 137); // killed by timeout: it did not give up
  std::ifstream in{log};
  std::string text{std::istreambuf_iterator<char>{in},
                   std::istreambuf_iterator<char>{}};
  INFO("log:\n" << text);
  auto needle = "cannot reach " + target + ": ";
  auto lines = lines_with(text, needle);
  REQUIRE(lines.size() >= 4);
  long prev = 0;
  for (auto& line : lines) {
    INFO(line);
    // A reason follows the target, e.g. "... (\"no such host\" ...)".
    CHECK(line.size() > line.find(needle) + needle.size() + 10);
    auto delay = retry_delay(line);
    CHECK(delay > 0);
    CHECK(delay <= 400);
    CHECK(delay >= prev);
    prev = delay;
  }
  CHECK(retry_delay(lines.back()) > retry_delay(lines.front()));
}

} // namespace

TEST_CASE("a worker whose join target refuses logs every attempt with the "
          "reason and backs off") {
  // A bound socket that does not listen: connecting to it is refused, and
  // no other process can take the port while it is held.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  check_join_retries_logged("127.0.0.1:" +
                            std::to_string(ntohs(addr.sin_port)));
  ::close(fd);
}

TEST_CASE("a worker whose join target does not resolve logs every attempt "
          "with the reason and backs off") {
  // `.invalid` never resolves (RFC 2606).
  check_join_retries_logged("no-such-host.invalid:7401");
}
