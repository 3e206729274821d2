// Drain after a flood (issue 15; docs/security.md, "Client-port floods"):
// tools/client_port_fuzz.py floods the client port (random and mutated
// frames, bursts whose replies are never read, connections reopened at
// random, all closed at the end); SIGTERM 5 s later must drain and exit 0
// within the node's own bounds. Before the fix the coordinator's mailbox
// held seconds of batches of connections that had already closed, the
// drain question timed out behind them and counted as 0 in flight, and the
// actor system then waited for the backlog: "shutdown timed out", exit 3.

#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "security_util.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

TEST_CASE("drain: SIGTERM 5 s after a client-port flood drains and exits 0") {
  temp_dir dir;
  node_process node{
      dir.path(), "node", {"--role=all", "--client-port=0", "--models=echo"}};
  auto port = node.client_port();
  auto cmd = std::string{"python3 "} + DINE_SOURCE_DIR +
             "/tools/client_port_fuzz.py " + std::to_string(port) +
             " --seconds 10 --connections 32 --seed 15 >" + dir.path() +
             "/fuzz.log 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::this_thread::sleep_for(5s);
  // Still serving after the flood.
  check_serves(port, "echo", 20);
  node.signal(SIGTERM);
  auto status = node.wait_exit(60s);
  INFO(node.log().substr(node.log().size() > 3000 ? node.log().size() - 3000
                                                  : 0));
  REQUIRE(status != -1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(node.log().find("shutdown timed out") == std::string::npos);
  CHECK(node.log().find("drain timed out") == std::string::npos);
}
