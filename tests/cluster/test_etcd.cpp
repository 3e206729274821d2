// Coordinator high availability on etcd (docs/design.md): a local etcd,
// two coordinators campaigning, a worker following the leader, and a
// client failing over between them. Real processes, real sockets.

#include <doctest/doctest.h>

#include <signal.h>

#include <atomic>
#include <thread>

#include "etcd_harness.hpp"
#include "harness.hpp"
#include "messages/errc.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/failover_client.hpp"
#include "runtime/wire.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

constexpr int ttl_s = 2;

std::vector<std::string> ha_args(const etcd_process& e, const std::string& n) {
  return {"--role=coordinator",
          "--client-port=0",
          "--listen=127.0.0.1:0",
          "--etcd=" + e.endpoint(),
          "--cluster=t",
          "--etcd-lease-ttl=" + std::to_string(ttl_s),
          "--etcd-poll-ms=100",
          "--name=" + n,
          "--heartbeat-interval-ms=100",
          "--connection-timeout-ms=1000"};
}

std::vector<std::string> follower_args(const etcd_process& e,
                                       uint32_t fixed_us) {
  return {"--role=worker",
          "--etcd=" + e.endpoint(),
          "--cluster=t",
          "--etcd-poll-ms=100",
          "--name=w1",
          "--models=sleep",
          "--model.sleep.fixed-us=" + std::to_string(fixed_us),
          "--reconnect-max-ms=200",
          "--heartbeat-interval-ms=100",
          "--connection-timeout-ms=1000"};
}

/// `health` of the coordinator at `port`; null when it does not answer.
nlohmann::json health(uint16_t port) {
  try {
    return op(port, op_code::health);
  } catch (std::exception&) {
    return nullptr;
  }
}

bool leads(uint16_t port) {
  auto h = health(port);
  return h.is_object() && h.value("leader", false);
}

template <class F>
bool wait_for(F pred, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::string addr(const node_process& n) {
  return "127.0.0.1:" + std::to_string(n.client_port());
}

client_request sleep_request(uint64_t id) {
  client_request req;
  req.id = id;
  req.model = "sleep";
  req.inputs = inputs_for(id);
  req.cache = false;
  req.deadline_ms = 30000;
  return req;
}

} // namespace

TEST_CASE("etcd: SIGKILLed leader - a standby leads within the TTL, the "
          "worker follows, every request is answered once") {
  temp_dir dir;
  etcd_process etcd{dir.path()};
  node_process c1{dir.path(), "c1", ha_args(etcd, "c1")};
  REQUIRE(wait_for([&] { return leads(c1.client_port()); }, 20s));
  node_process c2{dir.path(), "c2", ha_args(etcd, "c2")};
  node_process w1{dir.path(), "w1", follower_args(etcd, 2000)};
  REQUIRE(wait_for(
      [&] { return health(c1.client_port()).value("workers", 0) == 1; }, 20s));
  CHECK_FALSE(leads(c2.client_port()));
  // A standby refuses work with `not_leader`.
  auto refused = call(c2.client_port(), sleep_request(1));
  CHECK(refused.code == static_cast<uint8_t>(errc::not_leader));
  CHECK(refused.message.find("c1") != std::string::npos); // names the leader

  constexpr uint64_t total = 600;
  failover_client fc{{addr(c1), addr(c2)}};
  std::map<uint64_t, int> finals;
  std::map<uint8_t, int> codes;
  std::atomic<uint64_t> answered{0};
  std::string failure;
  std::thread load{[&] {
    uint64_t next_id = 1;
    auto until = std::chrono::steady_clock::now() + 120s;
    while (answered < total && std::chrono::steady_clock::now() < until) {
      while (next_id <= total && fc.pending() < 16) {
        auto err = fc.send(sleep_request(next_id++));
        (void)err; // kept pending, resent after the fail-over
      }
      client_reply rep;
      if (!fc.next(rep, 1s).empty())
        continue;
      ++finals[rep.id];
      ++codes[rep.code];
      ++answered;
    }
    if (answered < total)
      failure = std::to_string(total - answered) + " unanswered";
  }};
  REQUIRE(wait_for([&] { return answered >= 100; }, 60s));
  auto killed = std::chrono::steady_clock::now();
  c1.kill_now();
  REQUIRE(wait_for([&] { return leads(c2.client_port()); }, 30s));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed);
  MESSAGE("standby leads " << took.count() << " ms after the kill (TTL "
                           << ttl_s << " s)");
  CHECK(took < std::chrono::seconds{ttl_s + 5});
  load.join();
  CHECK(failure.empty());
  CHECK(finals.size() == total);
  for (auto& [id, n] : finals)
    CHECK(n == 1);
  CHECK(fc.strays() == 0);
  CHECK(fc.failovers() >= 1);
  MESSAGE("resent " << fc.resent() << ", ok " << codes[0] << " of " << total);
  // The worker follows: the new leader serves with it.
  REQUIRE(wait_for(
      [&] { return health(c2.client_port()).value("workers", 0) == 1; }, 20s));
  for (uint64_t id = total + 1; id <= total + 20; ++id) {
    fc.send(sleep_request(id));
    client_reply rep;
    REQUIRE(fc.next(rep, 10s).empty());
    CHECK(rep.code == 0);
  }
}

TEST_CASE("etcd: a leader SIGSTOPped past its lease never serves again") {
  temp_dir dir;
  etcd_process etcd{dir.path()};
  node_process c1{dir.path(), "c1", ha_args(etcd, "c1")};
  REQUIRE(wait_for([&] { return leads(c1.client_port()); }, 20s));
  node_process c2{dir.path(), "c2", ha_args(etcd, "c2")};
  // Each batch sleeps 3 s: a request is in flight when c1 freezes.
  node_process w1{dir.path(), "w1", follower_args(etcd, 3000000)};
  REQUIRE(wait_for(
      [&] { return health(c1.client_port()).value("workers", 0) == 1; }, 20s));
  client_conn old;
  REQUIRE(old.connect("127.0.0.1", c1.client_port(), 5s).empty());
  std::vector<char> buf;
  append_request(buf, sleep_request(7));
  REQUIRE(old.send_frames(buf).empty());
  REQUIRE(wait_inflight(c1.client_port(), 1));
  c1.signal(SIGSTOP);
  REQUIRE(wait_for([&] { return leads(c2.client_port()); }, 30s));
  // The worker's batch ended while c1 was frozen; its reply waits in c1.
  std::this_thread::sleep_for(std::chrono::seconds{3});
  c1.signal(SIGCONT);
  // The old connection is closed, never answered: the new leader may be
  // answering request 7 (the client resends it there).
  client_reply rep;
  auto err = old.read_reply(rep, 10s);
  CHECK_FALSE(err.empty());
  CHECK_FALSE(old.timed_out());
  // c1 knows it lost the lease and refuses new work; c2 still leads.
  // Its elector asks etcd first (its gate is closed meanwhile), then
  // steps down.
  CHECK(wait_for([&] { return !leads(c1.client_port()); }, 20s));
  auto again = call(c1.client_port(), sleep_request(8));
  CHECK(again.code == static_cast<uint8_t>(errc::not_leader));
  CHECK(leads(c2.client_port()));
  CHECK(c1.log().find("lost the leadership") != std::string::npos);
}

TEST_CASE("etcd: etcd down - the leader keeps serving and says so") {
  temp_dir dir;
  etcd_process etcd{dir.path()};
  node_process c1{dir.path(), "c1", ha_args(etcd, "c1")};
  REQUIRE(wait_for([&] { return leads(c1.client_port()); }, 20s));
  node_process w1{dir.path(), "w1", follower_args(etcd, 1000)};
  REQUIRE(wait_for(
      [&] { return health(c1.client_port()).value("workers", 0) == 1; }, 20s));
  etcd.kill_now();
  REQUIRE(wait_for(
      [&] {
        return health(c1.client_port()).value("etcd", "") == "unreachable";
      },
      20s));
  auto h = health(c1.client_port());
  CHECK(h.value("leader", false));
  CHECK_FALSE(h.value("etcd_error", "").empty());
  // Well past the lease TTL, it still serves what it has.
  auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds{2 * ttl_s + 1};
  uint64_t id = 1;
  while (std::chrono::steady_clock::now() < until) {
    auto rep = call(c1.client_port(), sleep_request(id++));
    CHECK(rep.code == 0);
    std::this_thread::sleep_for(100ms);
  }
  CHECK(leads(c1.client_port()));
  CHECK(c1.log().find("etcd unreachable") != std::string::npos);
}
