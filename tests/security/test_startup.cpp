// Safe start-up (docs/security.md): an embedded node without --listen opens
// no node port, so two of them on one host do not collide on 7401, and a
// config value with an unterminated quote stops the node with an error
// naming the key and the line. Real processes.

#include <doctest/doctest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

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
