// dine-node's exit statuses and a connection's backpressure, against real
// processes (docs/operations.md "Stopping", docs/protocol.md).

#include <doctest/doctest.h>

#include <sys/wait.h>

#include <csignal>
#include <cstdlib>
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
  auto until = std::chrono::steady_clock::now() + 5s;
  while (op(node.client_port(), op_code::stats)["requests"]["inflight"] != 1) {
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(10ms);
  }
  node.signal(SIGTERM);
  auto status = node.wait_exit(15s);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 4);
}

TEST_CASE("a connection at max-inflight-per-connection is not read until "
          "half its requests are answered; then all are answered") {
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
