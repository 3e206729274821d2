// Reply timings cover the whole server (issue 14): the stages add up to
// `total`, and `total` never exceeds what the client saw, against real
// processes on loopback.

#include <doctest/doctest.h>

#include <cstdio>

#include "harness.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

/// Sum of the stages that must add up to `total_us`.
uint64_t stage_sum(const timings& t) {
  return uint64_t{t.read_us} + t.preproc_us + t.cache_us + t.queue_us +
         t.network_us + t.infer_us + t.postproc_us + t.write_us;
}

/// Sends `req` on `conn` and returns the reply and the client-observed
/// round trip in microseconds (send -> reply decoded).
std::pair<client_reply, uint64_t> timed_call(client_conn& conn,
                                             const client_request& req) {
  std::vector<char> buf;
  append_request(buf, req);
  auto t0 = std::chrono::steady_clock::now();
  auto err = conn.send_frames(buf);
  REQUIRE(err.empty());
  client_reply rep;
  err = conn.read_reply(rep, 20s);
  auto t1 = std::chrono::steady_clock::now();
  REQUIRE(err.empty());
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0);
  return {rep, static_cast<uint64_t>(us.count())};
}

} // namespace

TEST_CASE("timings of a request that ran on a remote worker add up and fit "
          "inside the client's round trip") {
  temp_dir dir;
  node_process coord{dir.path(),
                     "coord",
                     {"--role=coordinator", "--client-port=0",
                      "--listen=127.0.0.1:0", "--heartbeat-interval-ms=100",
                      "--connection-timeout-ms=1000"}};
  node_process worker{
      dir.path(),
      "w1",
      {"--role=worker",
       "--join=127.0.0.1:" + std::to_string(coord.cluster_port()), "--name=w1",
       "--models=sleep", "--model.sleep.fixed-us=3000",
       "--model.sleep.per-item-us=0", "--heartbeat-interval-ms=100",
       "--connection-timeout-ms=1000"}};
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", coord.client_port(), 5s).empty());
  // The worker may still be joining: the first replies can be errors.
  for (uint64_t i = 1; i <= 20; ++i) {
    client_request req;
    req.id = i;
    req.model = "sleep";
    req.inputs = inputs_for(i);
    req.cache = false;
    auto [rep, client_us] = timed_call(conn, req);
    CAPTURE(i);
    CAPTURE(client_us);
    CAPTURE(rep.times.total_us);
    CHECK(rep.times.total_us > 0);
    CHECK(stage_sum(rep.times) == rep.times.total_us);
    CHECK(rep.times.total_us <= client_us);
    CHECK(rep.times.preproc_us == 0);
    CHECK(rep.times.postproc_us == 0);
    if (rep.code == 0) {
      CHECK(rep.worker == "w1");
      // The model sleeps 3 ms; the trip to the worker holds it.
      CHECK(rep.times.infer_us >= 3000);
      CHECK(rep.times.total_us >= rep.times.infer_us);
      CHECK(rep.times.cache_us == 0); // cache: false
    }
  }
}

TEST_CASE("timings of pipelined requests add up for every reply") {
  temp_dir dir;
  node_process node{dir.path(),
                    "n1",
                    {"--role=all", "--client-port=0", "--listen=127.0.0.1:0"}};
  auto res = run_load(node.client_port(), "echo", 2000, 8, 32, 60s, 5000);
  REQUIRE(res.error.empty());
  CHECK(res.replies.size() == 2000);
  size_t bad = 0;
  size_t zero = 0;
  for (auto& [id, rs] : res.replies) {
    auto& t = rs.front().times;
    bad += stage_sum(t) != t.total_us ? 1 : 0;
    zero += t.total_us == 0 ? 1 : 0;
  }
  CHECK(bad == 0);
  CHECK(zero == 0); // the marks reached the connection
}

TEST_CASE("a cache hit's timings show the cache and no trip to a worker") {
  temp_dir dir;
  node_process node{dir.path(),
                    "n1",
                    {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
                     "--cache-dir=" + dir.path() + "/cache",
                     "--model.cost.fixed-us=2000"}};
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", node.client_port(), 5s).empty());
  client_request req;
  req.id = 1;
  req.model = "cost";
  req.inputs = inputs_for(7);
  auto [miss, miss_us] = timed_call(conn, req);
  REQUIRE(miss.code == 0);
  REQUIRE_FALSE(miss.cached);
  CHECK(miss.times.infer_us >= 2000);
  CHECK(stage_sum(miss.times) == miss.times.total_us);
  CHECK(miss.times.total_us <= miss_us);
  req.id = 2;
  auto [hit, hit_us] = timed_call(conn, req);
  REQUIRE(hit.code == 0);
  REQUIRE(hit.cached);
  CHECK(hit.times.cache_us > 0); // a message to the cache actor and back
  CHECK(hit.times.network_us == 0);
  CHECK(hit.times.infer_us == 0);
  CHECK(stage_sum(hit.times) == hit.times.total_us);
  CHECK(hit.times.total_us <= hit_us);
}

TEST_CASE("dine-bench --stages reports the server's stages next to the "
          "client's latency") {
  temp_dir dir;
  node_process node{dir.path(),
                    "n1",
                    {"--role=all", "--client-port=0", "--listen=127.0.0.1:0"}};
  auto cmd = bin("dine-bench") +
             " --connect=127.0.0.1:" + std::to_string(node.client_port()) +
             " --model=echo --connections=2 --depth=4 --requests=2000"
             " --no-cache --stages --json 2>/dev/null";
  auto* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  while (auto n = fread(buf, 1, sizeof(buf), p))
    out.append(buf, n);
  CHECK(pclose(p) == 0);
  auto j = nlohmann::json::parse(out);
  CHECK(j["ok"] == 2000);
  auto& st = j["server_stages_us"];
  REQUIRE(st.is_object());
  for (auto name : {"read", "preproc", "cache", "queue", "network", "infer",
                    "postproc", "write", "total"})
    CHECK(st.contains(name));
  CHECK(st["total"]["p50"].get<double>() > 0);
  // The server's span lies inside the client's round trip.
  CHECK(st["total"]["p50"].get<double>() <=
        j["latency_us"]["p50"].get<double>());
}
