// Cluster tests: a real coordinator and real workers, each its own process,
// joined through CAF's middleman on loopback.

#include <doctest/doctest.h>

#include <signal.h>

#include <atomic>
#include <thread>

#include "harness.hpp"
#include "messages/errc.hpp"
#include "runtime/model_backend.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> coordinator_args() {
  return {"--role=coordinator", "--client-port=0", "--listen=127.0.0.1:0",
          "--heartbeat-interval-ms=100", "--connection-timeout-ms=1000"};
}

std::vector<std::string> worker_args(const node_process& coord,
                                     const std::string& name,
                                     const std::string& models) {
  return {"--role=worker",
          "--join=127.0.0.1:" + std::to_string(coord.cluster_port()),
          "--name=" + name,
          "--models=" + models,
          "--heartbeat-interval-ms=100",
          "--connection-timeout-ms=1000"};
}

/// Items served per worker name, from `stats`.
std::map<std::string, uint64_t> items_by_worker(uint16_t port) {
  std::map<std::string, uint64_t> out;
  auto stats = op(port, op_code::stats);
  for (auto& w : stats["workers"])
    out[w["name"].get<std::string>()] = w["items"].get<uint64_t>();
  return out;
}

/// Batches worker `name` has in flight now, from `stats`.
uint64_t outstanding_of(uint16_t port, const std::string& name) {
  auto stats = op(port, op_code::stats); // outlives the loop
  for (auto& w : stats["workers"])
    if (w["name"] == name)
      return w["outstanding"].get<uint64_t>();
  return 0;
}

/// Arguments of a worker serving `sleep` with `fixed_us` per batch.
std::vector<std::string> sleep_worker_args(const node_process& coord,
                                           const std::string& name,
                                           uint32_t fixed_us) {
  auto args = worker_args(coord, name, "sleep");
  args.push_back("--model.sleep.fixed-us=" + std::to_string(fixed_us));
  args.push_back("--model.sleep.per-item-us=0");
  return args;
}

/// Polls `stats` (up to 10 s) until worker `name` served `min_items` and
/// has batches in flight; returns how many it had then (0: never).
uint64_t wait_busy(uint16_t port, const std::string& name, uint64_t min_items) {
  auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    if (items_by_worker(port)[name] >= min_items)
      if (auto n = outstanding_of(port, name); n > 0)
        return n;
    std::this_thread::sleep_for(1ms);
  }
  return 0;
}

/// The outputs `cost` and `sleep` compute: {"fnv1a": FNV-1a of the input}.
std::vector<uint8_t> fnv_outputs(const std::vector<uint8_t>& in) {
  return fnv1a_outputs(in.data(), in.size());
}

/// Checks that ids 1..count got exactly one reply each; returns the number
/// of ok replies and checks each ok reply's outputs (echo, or with `fnv`
/// the outputs of cost/sleep).
size_t check_exactly_once(const load_result& res, size_t count,
                          bool fnv = false) {
  REQUIRE(res.error.empty());
  CHECK(res.sent == count);
  size_t ok = 0;
  size_t missing = 0;
  size_t doubled = 0;
  for (uint64_t id = 1; id <= count; ++id) {
    auto i = res.replies.find(id);
    if (i == res.replies.end()) {
      ++missing;
      continue;
    }
    if (i->second.size() != 1)
      ++doubled;
    auto& r = i->second.front();
    if (r.code == 0) {
      ++ok;
      auto want = fnv ? fnv_outputs(inputs_for(id - 1)) : inputs_for(id - 1);
      CHECK(r.outputs == want);
    } else {
      // An error is allowed, but it must say what happened.
      CHECK(!r.message.empty());
    }
  }
  CHECK(missing == 0);
  CHECK(doubled == 0);
  CHECK(res.duplicates == 0); // also none after the last expected reply
  CHECK(res.unknown == 0);
  CHECK(res.replies.size() == count); // no reply with an unknown id
  return ok;
}

} // namespace

TEST_CASE("a coordinator and two workers answer pipelined requests exactly "
          "once, and both workers serve") {
  temp_dir dir;
  node_process coord{dir.path(), "coord", coordinator_args()};
  node_process w1{dir.path(), "w1", worker_args(coord, "w1", "echo,cost")};
  node_process w2{dir.path(), "w2", worker_args(coord, "w2", "echo,cost")};
  // A short deadline keeps the quiet period after the last reply short.
  auto res = run_load(coord.client_port(), "echo", 2000, 8, 32, 60s, 2000);
  CHECK(check_exactly_once(res, 2000) == 2000);
  auto items = items_by_worker(coord.client_port());
  CHECK(items["w1"] > 0);
  CHECK(items["w2"] > 0);
  CHECK(items["w1"] + items["w2"] == 2000);
  // Replies name the worker that ran them.
  std::set<std::string> seen;
  for (auto& [id, rs] : res.replies)
    seen.insert(rs.front().worker);
  CHECK(seen == std::set<std::string>{"w1", "w2"});
}

TEST_CASE("SIGKILL of a worker with requests in flight: every request still "
          "gets exactly one reply") {
  temp_dir dir;
  auto cargs = coordinator_args();
  // `sleep` keeps batches in flight on the workers for 50 ms.
  cargs.push_back("--model.sleep.fixed-us=50000");
  cargs.push_back("--model.sleep.per-item-us=0");
  node_process coord{dir.path(), "coord", cargs};
  node_process w1{dir.path(), "w1", sleep_worker_args(coord, "w1", 50000)};
  node_process w2{dir.path(), "w2", sleep_worker_args(coord, "w2", 50000)};
  load_result res;
  std::thread load{[&] {
    res = run_load(coord.client_port(), "sleep", 6000, 8, 16, 60s, 3000);
  }};
  // Kill w1 once it has served some and has batches in flight right now.
  auto in_flight = wait_busy(coord.client_port(), "w1", 100);
  w1.kill_now();
  load.join();
  MESSAGE("w1 outstanding at the kill: " << in_flight);
  REQUIRE(in_flight > 0); // else the kill tested nothing
  // Every request had its batch re-dispatched (max-retries >= 1): none
  // may fail, and each ok output is the model's function of its input.
  CHECK(check_exactly_once(res, 6000, true) == 6000);
  // The survivor took over: w1 is gone from the registry.
  auto stats = op(coord.client_port(), op_code::stats);
  INFO("stats after the load: " << stats.dump()); // says why, if it fails
  REQUIRE(stats["workers"].size() == 1);
  CHECK(stats["workers"][0]["name"] == "w2");
  CHECK(stats["requests"]["inflight"] == 0);
  // w1 had batches in flight when it died: they were re-dispatched.
  CHECK(stats["batchers"][0]["retries"].get<uint64_t>() > 0);
}

TEST_CASE("SIGTERM of a worker with batches in flight: it drains them "
          "itself, nothing is retried, exit status 0") {
  temp_dir dir;
  node_process coord{dir.path(), "coord", coordinator_args()};
  // 200 ms per batch: batches are surely in flight at the signal.
  node_process w1{dir.path(), "w1", sleep_worker_args(coord, "w1", 200000)};
  node_process w2{dir.path(), "w2", sleep_worker_args(coord, "w2", 200000)};
  load_result res;
  std::thread load{[&] {
    res = run_load(coord.client_port(), "sleep", 1500, 4, 16, 60s, 3000);
  }};
  auto in_flight = wait_busy(coord.client_port(), "w1", 50);
  w1.signal(SIGTERM);
  load.join();
  REQUIRE(in_flight > 0); // else the drain had nothing to do
  CHECK(w1.wait_exit(10s) == 0);
  CHECK(check_exactly_once(res, 1500, true) == 1500);
  auto stats = op(coord.client_port(), op_code::stats);
  INFO("stats after the load: " << stats.dump());
  CHECK(stats["batchers"][0]["retries"] == 0); // w1 answered its batches
  CHECK(stats["requests"]["inflight"] == 0);
  CHECK(items_by_worker(coord.client_port()).count("w1") == 0);
}

TEST_CASE("a worker that joins later gets traffic at once") {
  temp_dir dir;
  node_process coord{dir.path(), "coord", coordinator_args()};
  node_process w1{dir.path(), "w1", worker_args(coord, "w1", "echo")};
  auto first = run_load(coord.client_port(), "echo", 200, 2, 8, 30s, 1000);
  CHECK(check_exactly_once(first, 200) == 200);
  node_process w2{dir.path(), "w2", worker_args(coord, "w2", "echo")};
  auto second = run_load(coord.client_port(), "echo", 400, 4, 8, 30s, 1000);
  CHECK(check_exactly_once(second, 400) == 400);
  CHECK(items_by_worker(coord.client_port())["w2"] > 0);
}

TEST_CASE("a killed worker leaves the registry, its model then answers "
          "unavailable at once") {
  temp_dir dir;
  node_process coord{dir.path(), "coord", coordinator_args()};
  node_process w1{dir.path(), "w1", worker_args(coord, "w1", "echo")};
  CHECK(op(coord.client_port(), op_code::health)["workers"] == 1);
  w1.kill_now();
  auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until &&
         op(coord.client_port(), op_code::health)["workers"] != 0)
    std::this_thread::sleep_for(10ms);
  CHECK(op(coord.client_port(), op_code::health)["workers"] == 0);
  client_request req;
  req.id = 7;
  req.model = "echo";
  req.inputs = inputs_for(7);
  req.deadline_ms = 5000;
  // `unavailable`, not `deadline_exceeded`: nothing waits for a timeout.
  auto rep = call(coord.client_port(), req, 5s);
  CHECK(rep.id == 7);
  CHECK(rep.code == static_cast<uint8_t>(errc::unavailable));
}

TEST_CASE("a request whose every attempt fails gets worker_failed after "
          "max-retries re-dispatches, once") {
  temp_dir dir;
  auto cargs = coordinator_args();
  cargs.push_back("--max-retries=2");
  node_process coord{dir.path(), "coord", cargs};
  auto wa1 = worker_args(coord, "w1", "echo");
  auto wa2 = worker_args(coord, "w2", "echo");
  for (auto* wa : {&wa1, &wa2})
    wa->push_back("--model.echo.fault=error"); // every batch fails
  node_process w1{dir.path(), "w1", wa1};
  node_process w2{dir.path(), "w2", wa2};
  auto res = run_load(coord.client_port(), "echo", 4, 1, 1, 30s);
  REQUIRE(res.error.empty());
  REQUIRE(res.replies.size() == 4);
  for (auto& [id, rs] : res.replies) {
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].code == static_cast<uint8_t>(errc::worker_failed));
    CHECK(rs[0].message.find("after 3 attempts") != std::string::npos);
  }
  auto stats = op(coord.client_port(), op_code::stats);
  INFO("stats: " << stats.dump());
  CHECK(stats["batchers"][0]["retries"] == 4 * 2);
  CHECK(stats["requests"]["errors"]["worker_failed"] == 4);
  CHECK(stats["requests"]["inflight"] == 0);
}
