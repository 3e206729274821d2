// Hostile clients on the metrics port (docs/security.md, "Metrics port"):
// garbage, an oversized request line, a request that never ends and junk
// with line ends. Each is answered or dropped within the port's bounds; the
// port then serves a scrape, the node keeps serving clients and stops
// cleanly on SIGTERM.

#include <doctest/doctest.h>

#include <csignal>
#include <random>
#include <sys/wait.h>

#include "harness.hpp"
#include "http_util.hpp"
#include "security_util.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

TEST_CASE("metrics port: garbage, endless and junk requests leave the port, "
          "the node and its shutdown intact") {
  temp_dir dir;
  node_process n{
      dir.path(),
      "n",
      {"--role=all", "--client-port=0", "--metrics-port=0", "--models=echo"}};
  auto port = static_cast<uint16_t>(n.ready().value("metrics_port", 0));
  REQUIRE(port != 0);
  std::mt19937 rng{7};
  std::string garbage(16384, '\0');
  for (auto& c : garbage)
    c = static_cast<char>(rng() & 0xff);
  for (auto& c : garbage)
    if (c == '\r' || c == '\n')
      c = 'x';
  {
    // No line end within the 8 KiB bound: dropped without an answer.
    raw_conn c{port};
    c.send(garbage);
    CHECK(c.closed_within(10s));
  }
  {
    // A request line that never ends: dropped after the time bound.
    raw_conn c{port};
    c.send("GET /metr");
    CHECK(c.closed_within(10s));
  }
  {
    // Junk with a line end: 400, not a crash.
    raw_conn c{port};
    c.send(garbage.substr(0, 100) + "\r\n\r\n");
    CHECK(status_of(c.read_all(10s)) == 400);
  }
  {
    raw_conn c{port};
    c.send("POST /metrics HTTP/1.1\r\n\r\n");
    CHECK(status_of(c.read_all(10s)) == 405);
  }
  auto m = curl(port, "/metrics");
  CHECK(m.status == 200);
  CHECK(m.body.find("# TYPE dine_") != std::string::npos);
  check_serves(n.client_port(), "echo", 50);
  n.signal(SIGTERM);
  auto st = n.wait_exit(30s);
  REQUIRE(st != -1);
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
}
