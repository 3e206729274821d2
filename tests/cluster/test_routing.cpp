// Cluster tests of routing (issue 4): balancing strategies, outlier
// ejection, key affinity, shard fallback, heartbeats and static membership,
// each with real dine-node processes on loopback.

#include <doctest/doctest.h>

#include <signal.h>

#include <set>
#include <thread>

#include "harness.hpp"
#include "messages/errc.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

using strings = std::vector<std::string>;

/// A coordinator without a response cache: every request reaches a worker.
strings coordinator(strings extra = {}) {
  strings args{"--role=coordinator",           "--client-port=0",
               "--listen=127.0.0.1:0",         "--heartbeat-interval-ms=100",
               "--connection-timeout-ms=1000", "--cache=off"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

strings worker(const node_process& coord, const std::string& name,
               const std::string& models, strings extra = {}) {
  strings args{"--role=worker",
               "--join=127.0.0.1:" + std::to_string(coord.cluster_port()),
               "--name=" + name,
               "--models=" + models,
               "--heartbeat-interval-ms=100",
               "--connection-timeout-ms=1000"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// Items and worker stats by worker name, from `stats`.
std::map<std::string, nlohmann::json> workers_of(uint16_t port) {
  std::map<std::string, nlohmann::json> out;
  auto stats = op(port, op_code::stats); // the loop must not dangle
  for (auto& w : stats["workers"])
    out[w["name"].get<std::string>()] = w;
  return out;
}

uint64_t items_of(uint16_t port, const std::string& name) {
  auto ws = workers_of(port);
  auto i = ws.find(name);
  return i == ws.end() ? 0 : i->second["items"].get<uint64_t>();
}

/// Waits up to `timeout` until `health` reports `n` workers.
bool wait_workers(uint16_t port, size_t n, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (op(port, op_code::health)["workers"] == n)
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

/// Sends one request per key (uncached, so neither the cache nor the
/// coalescer answers it), pipelined on one connection; returns the replies
/// in key order.
std::vector<client_reply> send_keyed(uint16_t port, const std::string& model,
                                     const strings& keys,
                                     uint32_t deadline_ms = 5000) {
  client_conn conn;
  auto err = conn.connect("127.0.0.1", port, 5s);
  REQUIRE(err.empty());
  std::vector<char> buf;
  static uint64_t serial = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    client_request req;
    req.id = i + 1;
    req.model = model;
    req.key = keys[i];
    req.cache = false;
    req.deadline_ms = deadline_ms;
    req.inputs = inputs_for(++serial);
    append_request(buf, req);
  }
  REQUIRE(conn.send_frames(buf).empty());
  std::vector<client_reply> out(keys.size());
  for (size_t n = 0; n < keys.size(); ++n) {
    client_reply rep;
    REQUIRE(conn.read_reply(rep, 10s).empty());
    REQUIRE(rep.id >= 1);
    REQUIRE(rep.id <= keys.size());
    out[rep.id - 1] = std::move(rep);
  }
  return out;
}

/// Sets a fault hook through the client protocol's `fault` op.
void set_fault(uint16_t port, const std::string& worker,
               const std::string& kind) {
  client_request req;
  req.id = 1;
  req.op = op_code::fault;
  auto bytes = nlohmann::json::to_msgpack(
      {{"model", "sleep"}, {"kind", kind}, {"worker", worker}});
  req.inputs.assign(bytes.begin(), bytes.end());
  auto rep = call(port, req);
  REQUIRE(rep.code == 0);
  auto names = nlohmann::json::from_msgpack(rep.outputs)["workers"];
  REQUIRE(names.size() == 1);
}

strings numbered_keys(size_t n) {
  strings out;
  for (size_t i = 0; i < n; ++i)
    out.push_back("key-" + std::to_string(i));
  return out;
}

} // namespace

TEST_CASE("least_latency: a worker 5x slower than the others gets under 10% "
          "of the traffic") {
  temp_dir dir;
  node_process coord{dir.path(), "coord",
                     coordinator({"--balance=least_latency"})};
  strings fast{"--model.sleep.fixed-us=2000", "--model.sleep.per-item-us=0"};
  strings slow{"--model.sleep.fixed-us=10000", "--model.sleep.per-item-us=0"};
  node_process w1{dir.path(), "w1", worker(coord, "w1", "sleep", fast)};
  node_process w2{dir.path(), "w2", worker(coord, "w2", "sleep", fast)};
  node_process w3{dir.path(), "w3", worker(coord, "w3", "sleep", slow)};
  auto res = run_load(coord.client_port(), "sleep", 3000, 2, 4, 30s);
  REQUIRE(res.error.empty());
  size_t ok = 0;
  for (auto& [id, rs] : res.replies)
    ok += rs.size() == 1 && rs.front().code == 0 ? 1 : 0;
  CHECK(ok == 3000);
  auto a = items_of(coord.client_port(), "w1");
  auto b = items_of(coord.client_port(), "w2");
  auto c = items_of(coord.client_port(), "w3");
  MESSAGE("items: w1=" << a << " w2=" << b << " w3 (slow)=" << c);
  CHECK(a + b + c == 3000);
  CHECK(c * 10 < a + b + c);
  auto ws = workers_of(coord.client_port());
  CHECK(ws["w3"]["latency_ewma_us"].get<uint64_t>() >
        ws["w1"]["latency_ewma_us"].get<uint64_t>());
}

TEST_CASE("a failing worker is ejected, traffic moves, and it is readmitted "
          "after it recovers") {
  temp_dir dir;
  node_process coord{
      dir.path(), "coord",
      coordinator({"--outlier-failures=3", "--outlier-ejection-ms=300",
                   "--outlier-max-ejection-ms=600",
                   "--enable-fault-injection"})};
  strings quick{"--model.sleep.fixed-us=500", "--model.sleep.per-item-us=0"};
  node_process w1{dir.path(), "w1", worker(coord, "w1", "sleep", quick)};
  node_process w2{dir.path(), "w2", worker(coord, "w2", "sleep", quick)};
  node_process w3{dir.path(), "w3", worker(coord, "w3", "sleep", quick)};
  auto port = coord.client_port();
  set_fault(port, "w1", "error");
  // Every request still succeeds: w1's batches are retried elsewhere.
  auto first = run_load(port, "sleep", 600, 2, 4, 30s);
  REQUIRE(first.error.empty());
  REQUIRE(first.replies.size() == 600);
  CHECK(first.duplicates == 0);
  for (auto& [id, rs] : first.replies)
    CHECK(rs.front().code == 0);
  auto ws = workers_of(port);
  MESSAGE(ws["w1"].dump());
  CHECK(ws["w1"]["ejections"].get<uint32_t>() >= 1);
  CHECK(ws["w1"]["items"] == 0);
  CHECK(ws["w1"]["failures"].get<uint64_t>() >= 3);
  CHECK(ws["w1"]["error_rate"].get<double>() > 0.5);
  CHECK(ws["w2"]["items"].get<uint64_t>() + ws["w3"]["items"].get<uint64_t>() ==
        600);
  // The detector's state, end to end: ejected (under load, while it
  // fails), then probing once its ejection time passed, then active again
  // after a success. A detector that never readmits stays `probing`.
  auto outlier = [&] { return workers_of(port)["w1"]["outlier"]; };
  auto until = std::chrono::steady_clock::now() + 8s;
  while (std::chrono::steady_clock::now() < until && outlier() != "ejected")
    run_load(port, "sleep", 20, 1, 4, 10s);
  REQUIRE(outlier() == "ejected");
  set_fault(port, "w1", "off");
  until = std::chrono::steady_clock::now() + 8s;
  while (std::chrono::steady_clock::now() < until && outlier() != "probing")
    std::this_thread::sleep_for(10ms); // no traffic: nothing readmits it
  REQUIRE(outlier() == "probing");
  until = std::chrono::steady_clock::now() + 8s;
  while (std::chrono::steady_clock::now() < until && outlier() != "active")
    run_load(port, "sleep", 60, 1, 4, 10s);
  CHECK(outlier() == "active");
  CHECK(items_of(port, "w1") > 0);
  auto again = run_load(port, "sleep", 600, 2, 4, 30s);
  REQUIRE(again.replies.size() == 600);
  ws = workers_of(port);
  CHECK(ws["w1"]["ejected"] == false);
  CHECK(ws["w1"]["outlier"] == "active");
  CHECK(ws["w1"]["items"].get<uint64_t>() > 60);
}

TEST_CASE("consistent_hash: a key stays on its worker while membership is "
          "stable and moves at once when that worker is killed") {
  temp_dir dir;
  node_process coord{dir.path(), "coord",
                     coordinator({"--balance=consistent_hash"})};
  auto w1 = std::make_unique<node_process>(dir.path(), "w1",
                                           worker(coord, "w1", "echo"));
  auto w2 = std::make_unique<node_process>(dir.path(), "w2",
                                           worker(coord, "w2", "echo"));
  auto w3 = std::make_unique<node_process>(dir.path(), "w3",
                                           worker(coord, "w3", "echo"));
  auto port = coord.client_port();
  auto keys = numbered_keys(30);
  strings many; // every key ten times, interleaved
  for (int round = 0; round < 10; ++round)
    many.insert(many.end(), keys.begin(), keys.end());
  auto replies = send_keyed(port, "echo", many);
  std::map<std::string, std::set<std::string>> owners;
  for (size_t i = 0; i < many.size(); ++i) {
    REQUIRE(replies[i].code == 0);
    owners[many[i]].insert(replies[i].worker);
  }
  std::map<std::string, size_t> per_worker;
  for (auto& [key, ws] : owners) {
    CHECK(ws.size() == 1); // the same key always reached the same worker
    ++per_worker[*ws.begin()];
  }
  CHECK(per_worker.size() == 3); // and the keys spread over the pool
  // Kill the owner of key-0; its keys move at once, the others stay.
  auto victim = *owners["key-0"].begin();
  (victim == "w1" ? w1 : victim == "w2" ? w2 : w3)->kill_now();
  auto after = send_keyed(port, "echo", many);
  std::map<std::string, std::set<std::string>> moved;
  for (size_t i = 0; i < many.size(); ++i) {
    REQUIRE(after[i].code == 0);
    moved[many[i]].insert(after[i].worker);
  }
  for (auto& [key, ws] : moved) {
    CAPTURE(key);
    REQUIRE(ws.size() == 1);
    auto before = *owners[key].begin();
    if (before == victim)
      CHECK(*ws.begin() != victim);
    else
      CHECK(*ws.begin() == before);
  }
}

TEST_CASE("a shard whose workers are all killed falls back (any) or answers "
          "unavailable at once (none)") {
  temp_dir dir;
  node_process coord{
      dir.path(), "coord",
      coordinator({"--model.sleep.shards=2", "--model.sleep.fallback=any",
                   "--model.echo.shards=2", "--model.echo.fallback=none"})};
  strings quick{"--model.sleep.fixed-us=200", "--model.sleep.per-item-us=0"};
  auto s0 = quick;
  s0.push_back("--shards=0");
  auto s1 = quick;
  s1.push_back("--shards=1");
  auto wa = std::make_unique<node_process>(
      dir.path(), "wa", worker(coord, "wa", "echo,sleep", s0));
  node_process wb{dir.path(), "wb", worker(coord, "wb", "echo,sleep", s1)};
  auto port = coord.client_port();
  // The registry lists the workers of each shard.
  auto models = op(port, op_code::models)["models"];
  for (auto& m : models)
    if (m["name"] == "echo") {
      CHECK(m["shards"] == 2);
      CHECK(m["shard_workers"] == nlohmann::json::parse(R"([["wa"],["wb"]])"));
    }
  auto keys = numbered_keys(40);
  auto before = send_keyed(port, "echo", keys);
  std::set<std::string> on_a;
  for (size_t i = 0; i < keys.size(); ++i) {
    REQUIRE(before[i].code == 0);
    if (before[i].worker == "wa")
      on_a.insert(keys[i]);
  }
  REQUIRE(!on_a.empty());
  REQUIRE(on_a.size() < keys.size());
  wa->kill_now();
  REQUIRE(wait_workers(port, 1, 5s));
  // fallback = none: shard 0's keys fail fast, shard 1's still work.
  auto t0 = std::chrono::steady_clock::now();
  auto echo = send_keyed(port, "echo", keys, 5000);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(elapsed < 2s); // never a deadline: answered at once
  for (size_t i = 0; i < keys.size(); ++i) {
    CAPTURE(keys[i]);
    if (on_a.count(keys[i]) > 0) {
      CHECK(echo[i].code == static_cast<uint8_t>(errc::unavailable));
      CHECK(echo[i].message.find("shard 0") != std::string::npos);
    } else {
      CHECK(echo[i].code == 0);
      CHECK(echo[i].worker == "wb");
    }
  }
  // fallback = any: every key is served by the surviving shard's worker.
  auto sleep = send_keyed(port, "sleep", keys, 5000);
  for (auto& r : sleep) {
    CHECK(r.code == 0);
    CHECK(r.worker == "wb");
  }
}

TEST_CASE("the registry: default versions, unknown versions, schemas") {
  temp_dir dir;
  node_process coord{dir.path(), "coord",
                     coordinator({"--model.echo.schema=map",
                                  "--model.echo.schema-keys=text"})};
  node_process w1{dir.path(), "w1", worker(coord, "w1", "echo")};
  node_process w2{dir.path(), "w2",
                  worker(coord, "w2", "echo", {"--model.echo.version=2"})};
  auto port = coord.client_port();
  auto text = nlohmann::json::to_msgpack({{"text", "hi"}});
  client_request req;
  req.id = 1;
  req.model = "echo";
  req.cache = false;
  req.inputs.assign(text.begin(), text.end());
  auto rep = call(port, req); // no version: the newest served, 2
  CHECK(rep.code == 0);
  CHECK(rep.worker == "w2");
  req.version = 1;
  rep = call(port, req);
  CHECK(rep.code == 0);
  CHECK(rep.worker == "w1");
  req.version = 7;
  rep = call(port, req);
  CHECK(rep.code == static_cast<uint8_t>(errc::unknown_model));
  CHECK(rep.message.find("version 7") != std::string::npos);
  req.version = 0;
  auto other = nlohmann::json::to_msgpack({{"txt", "hi"}});
  req.inputs.assign(other.begin(), other.end());
  rep = call(port, req);
  CHECK(rep.code == static_cast<uint8_t>(errc::invalid_input));
  CHECK(rep.message.find("text") != std::string::npos);
  // Rejected by the router: no worker saw it.
  CHECK(items_of(port, "w1") + items_of(port, "w2") == 2);
}

TEST_CASE("a frozen worker is removed after missed heartbeats, before the "
          "connection timeout, and registers again when it resumes") {
  temp_dir dir;
  strings slow_timeout{"--heartbeat-interval-ms=100",
                       "--connection-timeout-ms=5000"};
  auto cargs = coordinator({"--missed-heartbeats=3"});
  cargs.insert(cargs.end(), slow_timeout.begin(), slow_timeout.end());
  node_process coord{dir.path(), "coord", cargs};
  node_process w1{dir.path(), "w1", worker(coord, "w1", "echo", slow_timeout)};
  node_process w2{dir.path(), "w2", worker(coord, "w2", "echo", slow_timeout)};
  auto port = coord.client_port();
  REQUIRE(wait_workers(port, 2, 5s));
  w1.signal(SIGSTOP);
  auto t0 = std::chrono::steady_clock::now();
  CHECK(wait_workers(port, 1, 3s));
  CHECK(std::chrono::steady_clock::now() - t0 < 3s); // not the 5 s timeout
  auto res = run_load(port, "echo", 200, 2, 8, 10s);
  CHECK(res.replies.size() == 200);
  w1.signal(SIGCONT);
  CHECK(wait_workers(port, 2, 5s));
}

TEST_CASE("static membership: a coordinator with --worker serves through a "
          "listening worker and reconnects after it restarts") {
  temp_dir dir;
  int run = 0;
  auto start_worker = [&](uint16_t port) {
    return std::make_unique<node_process>(
        dir.path(), "s1-run" + std::to_string(++run),
        strings{"--role=worker", "--listen=127.0.0.1:" + std::to_string(port),
                "--name=s1", "--models=echo", "--heartbeat-interval-ms=100",
                "--connection-timeout-ms=1000"});
  };
  auto s1 = start_worker(0);
  auto wport = s1->cluster_port();
  REQUIRE(wport != 0);
  node_process coord{dir.path(), "coord",
                     coordinator({"--worker=127.0.0.1:" + std::to_string(wport),
                                  "--reconnect-max-ms=200"})};
  auto port = coord.client_port();
  REQUIRE(wait_workers(port, 1, 5s));
  auto res = run_load(port, "echo", 100, 1, 8, 10s);
  REQUIRE(res.replies.size() == 100);
  CHECK(res.replies.begin()->second.front().worker == "s1");
  s1->kill_now();
  REQUIRE(wait_workers(port, 0, 5s));
  s1 = start_worker(wport);
  CHECK(wait_workers(port, 1, 5s));
  auto again = run_load(port, "echo", 100, 1, 8, 10s);
  REQUIRE(again.replies.size() == 100);
  for (auto& [id, rs] : again.replies)
    CHECK(rs.front().code == 0);
}

TEST_CASE("static membership: a static worker SIGTERMed under load "
          "deregisters through its link and drains with zero errors") {
  temp_dir dir;
  auto static_worker = [&](const std::string& name) {
    return std::make_unique<node_process>(
        dir.path(), name,
        strings{"--role=worker", "--listen=127.0.0.1:0", "--name=" + name,
                "--models=sleep", "--model.sleep.fixed-us=50000",
                "--model.sleep.per-item-us=0", "--heartbeat-interval-ms=100",
                "--connection-timeout-ms=1000"});
  };
  auto s1 = static_worker("s1");
  auto s2 = static_worker("s2");
  node_process coord{
      dir.path(), "coord",
      coordinator(
          {"--worker=127.0.0.1:" + std::to_string(s1->cluster_port()),
           "--worker=127.0.0.1:" + std::to_string(s2->cluster_port())})};
  auto port = coord.client_port();
  REQUIRE(wait_workers(port, 2, 5s));
  load_result res;
  std::thread load{
      [&] { res = run_load(port, "sleep", 2000, 4, 8, 30s, 2000); }};
  // SIGTERM while s1 has batches in flight (50 ms each): the drain, not a
  // retry elsewhere, must answer them.
  auto until = std::chrono::steady_clock::now() + 10s;
  uint64_t in_flight = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto ws = workers_of(port);
    if (ws.count("s1") && ws["s1"]["items"].get<uint64_t>() >= 100 &&
        (in_flight = ws["s1"]["outstanding"].get<uint64_t>()) > 0)
      break;
    std::this_thread::sleep_for(1ms);
  }
  s1->signal(SIGTERM);
  load.join();
  REQUIRE(in_flight > 0);
  CHECK(s1->wait_exit(10s) == 0);
  INFO(res.error);
  REQUIRE(res.error.empty());
  CHECK(res.replies.size() == 2000);
  CHECK(res.duplicates == 0);
  for (auto& [id, rs] : res.replies) {
    CHECK(rs.size() == 1);
    CHECK(rs.front().code == 0);
  }
  CHECK(workers_of(port).count("s1") == 0);
  auto stats = op(port, op_code::stats);
  INFO("stats: " << stats.dump());
  for (auto& b : stats["batchers"])
    CHECK(b["retries"] == 0); // s1 finished its own batches
}

TEST_CASE("consistent_hash: a batch that fails on its key's worker is "
          "retried on another one") {
  temp_dir dir;
  node_process coord{dir.path(), "coord",
                     coordinator({"--balance=consistent_hash"})};
  // w1 fails every batch but stays up; w2 is healthy.
  node_process w1{dir.path(), "w1",
                  worker(coord, "w1", "echo", {"--model.echo.fault=error"})};
  node_process w2{dir.path(), "w2", worker(coord, "w2", "echo")};
  auto port = coord.client_port();
  REQUIRE(wait_workers(port, 2, 5s));
  // One request at a time, so that w1 is not ejected (that takes 5
  // failures in a row) before every key of its share has been tried.
  size_t ok = 0;
  for (auto& k : numbered_keys(12)) {
    auto replies = send_keyed(port, "echo", {k});
    CHECK(replies[0].code == 0);
    CHECK(replies[0].worker == "w2");
    ok += replies[0].code == 0 ? 1 : 0;
  }
  CHECK(ok == 12);
  auto stats = op(port, op_code::stats);
  INFO("stats: " << stats.dump());
  // Some keys belong to w1: their first attempt failed there.
  CHECK(stats["batchers"][0]["retries"].get<uint64_t>() > 0);
}
