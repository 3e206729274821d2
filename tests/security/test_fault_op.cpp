// The `fault` op is locked down (docs/security.md, "Fault injection"):
// refused with `forbidden` unless the node was started with
// --enable-fault-injection, held to the config's bounds, and `off` brings
// back every model, also one its worker gave up on. Real processes.

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include "messages/errc.hpp"
#include "security_util.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

using strings = std::vector<std::string>;

client_reply fault(uint16_t port, const nlohmann::json& inputs) {
  client_request req;
  req.id = 7;
  req.op = op_code::fault;
  auto bytes = nlohmann::json::to_msgpack(inputs);
  req.inputs.assign(bytes.begin(), bytes.end());
  return call(port, req);
}

client_reply infer(uint16_t port, const std::string& model, uint64_t id) {
  client_request req;
  req.id = id;
  req.model = model;
  req.cache = false;
  req.inputs = inputs_for(id);
  return call(port, req);
}

/// Polls until a request for `model` gets `code` (at most `timeout`).
bool wait_code(uint16_t port, const std::string& model, errc code,
               std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  uint64_t id = 100;
  while (std::chrono::steady_clock::now() < until) {
    if (infer(port, model, ++id).code == static_cast<uint8_t>(code))
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

/// A coordinator (fault injection enabled or not) and one worker `w1`
/// serving echo and cost, registered.
struct cluster {
  temp_dir dir;
  node_process coord;
  node_process w1;
  uint16_t port;

  explicit cluster(bool faults)
      : coord{dir.path(), "coord", coordinator(faults)},
        w1{dir.path(), "w1", worker(coord)}, port{coord.client_port()} {
    REQUIRE(wait_worker_count(port, 1, 5s));
  }

  static strings coordinator(bool faults) {
    strings args{"--role=coordinator",           "--client-port=0",
                 "--listen=127.0.0.1:0",         "--heartbeat-interval-ms=100",
                 "--connection-timeout-ms=1000", "--cache=off"};
    if (faults)
      args.push_back("--enable-fault-injection");
    return args;
  }

  static strings worker(const node_process& coord) {
    return {"--role=worker",
            "--join=127.0.0.1:" + std::to_string(coord.cluster_port()),
            "--name=w1",
            "--models=echo,cost",
            "--model.cost.fixed-us=100",
            "--heartbeat-interval-ms=100",
            "--connection-timeout-ms=1000"};
  }
};

} // namespace

TEST_CASE("the fault op is forbidden on a node started without "
          "--enable-fault-injection, and changes nothing") {
  cluster c{false};
  auto port = c.port;
  for (auto kind : {"crash_on_start", "crash", "off"}) {
    auto rep = fault(port, {{"kind", kind}});
    CHECK(rep.code == static_cast<uint8_t>(errc::forbidden));
    CHECK(rep.message.find("--enable-fault-injection") != std::string::npos);
  }
  // Nothing was armed: every model still answers, again and again.
  for (uint64_t i = 1; i <= 20; ++i) {
    CHECK(infer(port, "echo", i).code == 0);
    CHECK(infer(port, "cost", 100 + i).code == 0);
  }
  CHECK(c.w1.log().find("giving up") == std::string::npos);
  // An embedded node refuses it the same way.
  node_process all{
      c.dir.path(), "all", {"--role=all", "--client-port=0", "--cache=off"}};
  CHECK(fault(all.client_port(), {{"kind", "crash"}}).code ==
        static_cast<uint8_t>(errc::forbidden));
}

TEST_CASE("with --enable-fault-injection the fault op is held to the "
          "config's bounds") {
  cluster c{true};
  auto port = c.port;
  auto big = fault(port, {{"kind", "slow"}, {"slow_ms", 4294967295u}});
  CHECK(big.code == static_cast<uint8_t>(errc::invalid_request));
  CHECK(big.message.find("slow_ms") != std::string::npos);
  auto ok = fault(port, {{"model", "echo"},
                         {"kind", "slow"},
                         {"slow_ms", 600000},
                         {"count", 0},
                         {"rate", 0}});
  CHECK(ok.code == 0);
  // rate 0: armed but never fires; service is unchanged.
  CHECK(infer(port, "echo", 1).code == 0);
}

TEST_CASE("fault kind off brings back every model after crash_on_start + "
          "crash made the worker give up on all of them") {
  cluster c{true};
  auto port = c.port;
  // The two frames, no model named.
  REQUIRE(fault(port, {{"kind", "crash_on_start"}}).code == 0);
  REQUIRE(fault(port, {{"kind", "crash"}}).code == 0);
  // Traffic makes the sessions crash, restart into crash_on_start, and the
  // worker give up on each model (6 crashes within 10 s).
  REQUIRE(wait_code(port, "echo", errc::unavailable, 10s));
  REQUIRE(wait_code(port, "cost", errc::unavailable, 10s));
  auto gave_up = [&] {
    auto log = c.w1.log();
    return log.find("`echo` crashed") != std::string::npos &&
           log.find("`cost` crashed") != std::string::npos;
  };
  CHECK(gave_up());

  auto off = fault(port, {{"kind", "off"}});
  REQUIRE(off.code == 0);
  CHECK(wait_code(port, "echo", errc::none, 5s));
  CHECK(wait_code(port, "cost", errc::none, 5s));
  // And it stays up: a burst on both models, all ok, all on w1.
  check_serves(port, "echo", 200, "w1");
  check_serves(port, "cost", 100, "w1");
  CHECK(c.w1.log().find("restarted (fault hooks off)") != std::string::npos);
}
