// The response cache against real processes and real LMDB files (issue 3).

#include <doctest/doctest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "harness.hpp"
#include "messages/errc.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> node_args(const std::string& cache_dir,
                                   std::vector<std::string> extra = {}) {
  std::vector<std::string> args{
      "--role=all", "--client-port=0", "--listen=127.0.0.1:0",
      "--cache-dir=" + cache_dir, "--cache-flush-us=500"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

client_request cost_request(uint64_t id, uint64_t x) {
  client_request r;
  r.id = id;
  r.model = "cost";
  r.inputs = inputs_for(x);
  return r;
}

/// Items the `cost` model ran, over all its batchers (versions, shards).
uint64_t cost_items(uint16_t port) {
  uint64_t n = 0;
  auto st = op(port, op_code::stats);
  for (auto& b : st["batchers"])
    if (b["model"] == "cost")
      n += b["items"].get<uint64_t>();
  return n;
}

} // namespace

TEST_CASE("a repeated request is a cache hit that calls no worker, and "
          "survives kill -9 of the node") {
  temp_dir dir;
  auto cache_dir = dir.path() + "/cache";
  std::vector<uint8_t> first_outputs;
  {
    node_process node{dir.path(), "n1",
                      node_args(cache_dir, {"--model.cost.fixed-us=20000"})};
    auto port = node.client_port();
    auto miss = call(port, cost_request(1, 42));
    REQUIRE(miss.code == 0);
    CHECK_FALSE(miss.cached);
    CHECK(miss.batch == 1);
    first_outputs = miss.outputs;
    CHECK(cost_items(port) == 1);
    auto hit = call(port, cost_request(2, 42));
    REQUIRE(hit.code == 0);
    CHECK(hit.cached);
    CHECK(hit.batch == 0);
    CHECK(hit.outputs == first_outputs);
    CHECK(hit.times.total_us < miss.times.total_us);
    CHECK(cost_items(port) == 1); // no worker was called
    CHECK(op(port, op_code::stats)["cache"]["hits"] == 1);
    // cache: false runs the model again.
    auto fresh = cost_request(3, 42);
    fresh.cache = false;
    auto rep = call(port, fresh);
    CHECK_FALSE(rep.cached);
    CHECK(cost_items(port) == 2);
    // Wait (polling, up to 5 s) for the write-behind flush, then kill -9.
    auto flushed = [&] {
      auto c = op(port, op_code::stats)["cache"];
      return c["writes"].get<uint64_t>() >= 1 &&
             c["lmdb_entries"].get<uint64_t>() >= 1;
    };
    auto until = std::chrono::steady_clock::now() + 5s;
    while (!flushed() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(2ms);
    REQUIRE(flushed());
    node.signal(SIGKILL);
    node.wait_exit(5s);
  }
  CHECK(std::filesystem::exists(cache_dir + "/data.mdb"));
  node_process again{dir.path(), "n2", node_args(cache_dir)};
  auto rep = call(again.client_port(), cost_request(4, 42));
  REQUIRE(rep.code == 0);
  CHECK(rep.cached);
  CHECK(rep.outputs == first_outputs);
  CHECK(cost_items(again.client_port()) == 0);
  CHECK(op(again.client_port(), op_code::stats)["cache"]["disk_hits"] == 1);
}

TEST_CASE("non-cacheable models and expired entries are never served from "
          "the cache") {
  temp_dir dir;
  node_process node{
      dir.path(), "n",
      node_args(dir.path() + "/cache",
                {"--model.echo.cacheable=false",
                 "--model.cost.cache-ttl-ms=200", "--model.cost.fixed-us=0"})};
  auto port = node.client_port();
  client_request e;
  e.id = 1;
  e.model = "echo";
  e.inputs = inputs_for(1);
  CHECK_FALSE(call(port, e).cached);
  e.id = 2;
  CHECK_FALSE(call(port, e).cached);
  CHECK_FALSE(call(port, cost_request(3, 5)).cached);
  CHECK(call(port, cost_request(4, 5)).cached);
  std::this_thread::sleep_for(300ms); // past the model's TTL
  CHECK_FALSE(call(port, cost_request(5, 5)).cached);
}

TEST_CASE("an unusable cache directory does not stop the node serving") {
  temp_dir dir;
  auto file = dir.path() + "/not-a-dir";
  { std::ofstream{file} << "x"; }
  node_process node{dir.path(), "n", node_args(file + "/cache")};
  auto rep = call(node.client_port(), cost_request(1, 9));
  CHECK(rep.code == 0);
  // The cache gave up on the disk (after its open retries) and said so.
  uint64_t errors = 0;
  for (int i = 0; i < 200 && errors == 0; ++i) {
    errors = op(node.client_port(), op_code::stats)["cache"]["errors"]
                 .get<uint64_t>();
    std::this_thread::sleep_for(10ms);
  }
  CHECK(errors >= 1);
  // ... and still caches in memory.
  CHECK(call(node.client_port(), cost_request(2, 9)).cached);
}

TEST_CASE("two coordinators share one cache node over the middleman") {
  temp_dir dir;
  node_process cache{dir.path(),
                     "cache",
                     {"--role=cache", "--listen=127.0.0.1:0",
                      "--cache-dir=" + dir.path() + "/shared",
                      "--cache-flush-us=500"}};
  auto cache_node =
      "--cache-node=127.0.0.1:" + std::to_string(cache.cluster_port());
  node_process a{dir.path(),
                 "a",
                 {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
                  "--model.cost.fixed-us=0", cache_node}};
  node_process b{dir.path(),
                 "b",
                 {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
                  "--model.cost.fixed-us=0", cache_node}};
  auto first = call(a.client_port(), cost_request(1, 77));
  REQUIRE(first.code == 0);
  CHECK_FALSE(first.cached);
  // Eventually consistent: the write reaches the shared cache with the
  // next flush; b then answers from it without running the model.
  client_reply second;
  for (int i = 0; i < 100; ++i) {
    second = call(b.client_port(), cost_request(2 + i, 77));
    if (second.cached)
      break;
    std::this_thread::sleep_for(10ms);
  }
  CHECK(second.cached);
  CHECK(second.outputs == first.outputs);
  // Both coordinators report the shared cache's counters.
  CHECK(op(b.client_port(), op_code::stats)["cache"]["hits"].get<uint64_t>() >=
        1);
}

TEST_CASE("a request without a version is never answered with an older "
          "version's cached result once a newer version serves") {
  temp_dir dir;
  node_process coord{dir.path(),
                     "coord",
                     {"--role=coordinator", "--client-port=0",
                      "--listen=127.0.0.1:0",
                      "--cache-dir=" + dir.path() + "/cache"}};
  auto port = coord.client_port();
  auto join = "--join=127.0.0.1:" + std::to_string(coord.cluster_port());
  auto worker = [&](const std::string& name, const std::string& version) {
    return std::make_unique<node_process>(
        dir.path(), name,
        std::vector<std::string>{"--role=worker", join, "--name=" + name,
                                 "--models=echo",
                                 "--model.echo.version=" + version});
  };
  client_request req;
  req.id = 1;
  req.model = "echo";
  req.inputs = inputs_for(7);
  auto v1 = worker("v1", "1");
  auto rep = call(port, req);
  REQUIRE(rep.code == 0);
  CHECK_FALSE(rep.cached);
  CHECK(rep.worker == "v1");
  CHECK(call(port, req).cached); // version 1 is the default: a hit
  auto v2 = worker("v2", "2");
  // Version 2 is the default once the coordinator knows it.
  auto default_version = [&] {
    auto models = op(port, op_code::models); // outlives the loop
    for (auto& m : models["models"])
      if (m["name"] == "echo")
        return m["version"].get<uint32_t>();
    return 0u;
  };
  auto until = std::chrono::steady_clock::now() + 5s;
  while (default_version() != 2) {
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(10ms);
  }
  rep = call(port, req);
  REQUIRE(rep.code == 0);
  CHECK_FALSE(rep.cached); // not version 1's cached result
  CHECK(rep.worker == "v2");
  CHECK(call(port, req).cached); // now version 2's result is cached
  // Asking for version 1 by number still finds version 1's entry.
  req.version = 1;
  rep = call(port, req);
  CHECK(rep.cached);
  CHECK(rep.outputs == inputs_for(7));
}

TEST_CASE("a coordinator serves without its cache node while it is down, "
          "and uses it again once it is back") {
  temp_dir dir;
  auto shared = dir.path() + "/shared";
  auto cache_args = [&](uint16_t port) {
    return std::vector<std::string>{
        "--role=cache", "--listen=127.0.0.1:" + std::to_string(port),
        "--cache-dir=" + shared, "--cache-flush-us=500"};
  };
  // The cache node is down when the coordinator starts: it still serves.
  uint16_t cache_port = 0;
  {
    node_process probe{dir.path(), "probe", cache_args(0)};
    cache_port = probe.cluster_port(); // a free port, free again below
  }
  node_process coord{dir.path(),
                     "coord",
                     {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
                      "--model.cost.fixed-us=0", "--reconnect-max-ms=200",
                      "--cache-node=127.0.0.1:" + std::to_string(cache_port)}};
  auto port = coord.client_port();
  auto rep = call(port, cost_request(1, 5));
  REQUIRE(rep.code == 0);
  CHECK_FALSE(rep.cached);
  rep = call(port, cost_request(2, 5));
  REQUIRE(rep.code == 0);
  CHECK_FALSE(rep.cached); // no cache yet
  // Polls until a request for `x` is answered from the cache.
  auto cached_soon = [&](uint64_t x) {
    for (int i = 0; i < 500; ++i) {
      auto r = call(port, cost_request(100 + i, x));
      REQUIRE(r.code == 0);
      if (r.cached)
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  };
  {
    node_process cache{dir.path(), "cache1", cache_args(cache_port)};
    CHECK(cached_soon(6)); // the link connected: results are cached
    cache.kill_now();
    // Without the cache node every request is still answered.
    for (uint64_t i = 0; i < 20; ++i) {
      rep = call(port, cost_request(200 + i, 6));
      CHECK(rep.code == 0);
    }
  }
  node_process cache{dir.path(), "cache2", cache_args(cache_port)};
  CHECK(cached_soon(7)); // reconnected to the restarted cache node
}
