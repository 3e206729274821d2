// Batching and coalescing against a real node (issue 5).

#include <doctest/doctest.h>

#include "harness.hpp"
#include "messages/errc.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

uint64_t fnv1a(const std::vector<uint8_t>& in) {
  uint64_t h = 14695981039346656037ull;
  for (auto b : in)
    h = (h ^ b) * 1099511628211ull;
  return h;
}

/// Sends all `reqs` on one connection at once and collects the replies.
std::map<uint64_t, client_reply>
burst(uint16_t port, const std::vector<client_request>& reqs) {
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", port, 5s).empty());
  std::vector<char> buf;
  for (auto& r : reqs)
    append_request(buf, r);
  REQUIRE(conn.send_frames(buf).empty());
  std::map<uint64_t, client_reply> out;
  for (size_t i = 0; i < reqs.size(); ++i) {
    client_reply rep;
    auto err = conn.read_reply(rep, 10s);
    REQUIRE_MESSAGE(err.empty(), err);
    CHECK(out.count(rep.id) == 0); // exactly one reply per id
    out[rep.id] = rep;
  }
  return out;
}

} // namespace

TEST_CASE("64 concurrent requests against cost are batched, each result "
          "is its own") {
  temp_dir dir;
  node_process node{
      dir.path(),
      "all",
      {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
       "--model.cost.fixed-us=2000", "--model.cost.per-item-us=50",
       "--model.cost.max-batch-size=32", "--model.cost.max-delay-us=2000"}};
  std::vector<client_request> reqs;
  for (uint64_t i = 1; i <= 64; ++i) {
    client_request r;
    r.id = i;
    r.model = "cost";
    r.inputs = inputs_for(i);
    r.cache = false;
    reqs.push_back(r);
  }
  auto replies = burst(node.client_port(), reqs);
  REQUIRE(replies.size() == 64);
  uint32_t largest = 0;
  for (auto& [id, rep] : replies) {
    REQUIRE(rep.code == 0);
    auto out = nlohmann::json::from_msgpack(rep.outputs);
    CHECK(out["fnv1a"].get<uint64_t>() == fnv1a(inputs_for(id)));
    CHECK(rep.batch <= 32); // never above max_batch_size
    largest = std::max(largest, rep.batch);
  }
  CHECK(largest > 1);
  auto stats = op(node.client_port(), op_code::stats);
  for (auto& b : stats["batchers"])
    if (b["model"] == "cost") {
      CHECK(b["items"] == 64);
      CHECK(b["batches"].get<uint64_t>() < 64);
    }
}

TEST_CASE("100 identical concurrent requests cause one model invocation") {
  temp_dir dir;
  node_process node{dir.path(),
                    "all",
                    {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
                     "--model.sleep.fixed-us=100000"}};
  std::vector<client_request> reqs;
  for (uint64_t i = 1; i <= 100; ++i) {
    client_request r;
    r.id = i;
    r.model = "sleep";
    r.inputs = inputs_for(7); // all identical
    reqs.push_back(r);
  }
  auto replies = burst(node.client_port(), reqs);
  REQUIRE(replies.size() == 100);
  for (auto& [id, rep] : replies) {
    REQUIRE(rep.code == 0);
    CHECK(nlohmann::json::from_msgpack(rep.outputs)["fnv1a"].get<uint64_t>() ==
          fnv1a(inputs_for(7)));
  }
  auto stats = op(node.client_port(), op_code::stats);
  CHECK(stats["requests"]["coalesced"] == 99);
  for (auto& b : stats["batchers"])
    if (b["model"] == "sleep")
      CHECK(b["items"] == 1);
  // With `cache: false` nothing is coalesced: each runs.
  for (auto& r : reqs) {
    r.id += 1000;
    r.cache = false;
  }
  reqs.resize(10);
  burst(node.client_port(), reqs);
  stats = op(node.client_port(), op_code::stats);
  for (auto& b : stats["batchers"])
    if (b["model"] == "sleep")
      CHECK(b["items"] == 11);
}

TEST_CASE("deadlines, priorities and a full queue are answered at once") {
  temp_dir dir;
  node_process node{dir.path(),
                    "all",
                    {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
                     "--model.sleep.fixed-us=200000",
                     "--model.sleep.max-batch-size=1", "--capacity=1",
                     "--model.sleep.max-queue=5"}};
  std::vector<client_request> reqs;
  for (uint64_t i = 1; i <= 12; ++i) {
    client_request r;
    r.id = i;
    r.model = "sleep";
    r.inputs = inputs_for(i);
    r.cache = false;
    r.deadline_ms = i == 12 ? 50 : 0;
    r.priority = i == 5 ? 10 : 0; // queued behind 2..4, runs before them
    reqs.push_back(r);
  }
  auto replies = burst(node.client_port(), reqs);
  REQUIRE(replies.size() == 12);
  size_t overloaded = 0;
  for (auto& [id, rep] : replies)
    if (rep.code == static_cast<uint8_t>(errc::overloaded))
      ++overloaded;
  // One runs, five wait, the rest are refused at once.
  CHECK(overloaded >= 5);
  // The high-priority request left the queue before the earlier ones: it
  // finished first (one batch of one at a time, 200 ms each).
  REQUIRE(replies[5].code == 0);
  for (uint64_t i : {2, 3, 4}) {
    REQUIRE(replies[i].code == 0);
    CHECK(replies[5].times.total_us < replies[i].times.total_us);
  }
  auto& last = replies[12];
  CHECK((last.code == static_cast<uint8_t>(errc::deadline_exceeded) ||
         last.code == static_cast<uint8_t>(errc::overloaded)));
}

TEST_CASE("a model's timeout-ms applies to requests without a deadline, "
          "never to one the client set, even to the node default") {
  temp_dir dir;
  node_process node{
      dir.path(),
      "all",
      {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
       "--model.sleep.fixed-us=800000", "--model.sleep.per-item-us=0",
       "--model.sleep.timeout-ms=200", "--request-timeout-ms=5000"}};
  std::vector<client_request> reqs;
  for (uint64_t i = 1; i <= 2; ++i) {
    client_request r;
    r.id = i;
    r.model = "sleep";
    r.inputs = inputs_for(i);
    r.cache = false;
    // 1: no deadline, so the model's 200 ms; 2: 5000 ms, the node default,
    // asked for explicitly.
    r.deadline_ms = i == 1 ? 0 : 5000;
    reqs.push_back(r);
  }
  auto replies = burst(node.client_port(), reqs);
  REQUIRE(replies.size() == 2);
  CHECK(replies[1].code == static_cast<uint8_t>(errc::deadline_exceeded));
  CHECK(replies[1].times.total_us < 800000);
  CHECK(replies[2].code == 0);
}

TEST_CASE("a batch slower than request-timeout-ms but within the model's "
          "timeout-ms runs once and succeeds") {
  temp_dir dir;
  node_process node{
      dir.path(),
      "all",
      {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
       "--model.sleep.fixed-us=1500000", "--model.sleep.per-item-us=0",
       "--model.sleep.timeout-ms=5000", "--request-timeout-ms=1000"}};
  client_request r;
  r.id = 1;
  r.model = "sleep";
  r.inputs = inputs_for(1);
  r.cache = false;
  auto replies = burst(node.client_port(), {r});
  REQUIRE(replies.size() == 1);
  CHECK(replies[1].code == 0);
  auto stats = op(node.client_port(), op_code::stats);
  INFO("stats: " << stats.dump());
  for (auto& b : stats["batchers"])
    if (b["model"] == "sleep") {
      CHECK(b["retries"] == 0);
      CHECK(b["items"] == 1);
    }
}
