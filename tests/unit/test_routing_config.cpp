// runtime/routing_config.hpp: the routing keys of node_config.

#include <doctest/doctest.h>

#include "messages/errc.hpp"
#include "runtime/node_config.hpp"

using namespace dine;
using namespace std::chrono_literals;

namespace {

std::string message_of(const caf::error& err) {
  return classify(err).second;
}

} // namespace

TEST_CASE("routing keys: defaults") {
  auto cfg = load_config({});
  REQUIRE(cfg);
  CHECK(cfg->routing.balance == "round_robin");
  CHECK(cfg->routing.missed_heartbeats == 4);
  CHECK(cfg->routing.outlier.consecutive_failures == 5);
  CHECK(cfg->routing.static_workers.empty());
  auto& m = cfg->model_table.at("sleep");
  CHECK(m.routing.shards == 1);
  CHECK(m.routing.mode == shard_mode::ring);
  CHECK(m.routing.fallback == fallback_mode::any);
  CHECK(m.routing.schema == schema_type::any);
  CHECK(m.cacheable);
  CHECK(m.routing.timeout == 0ms);
}

TEST_CASE("routing keys: node and per-model values") {
  auto cfg = load_config({"--role=coordinator",
                          "--balance=least_latency",
                          "--missed-heartbeats=7",
                          "--outlier-failures=3",
                          "--outlier-ejection-ms=250",
                          "--outlier-max-ejection-ms=4000",
                          "--outlier-max-percent=30",
                          "--outlier-decay-ms=0",
                          "--worker=10.0.0.1:7000",
                          "--worker=h2:7001",
                          "--model.sleep.shards=4",
                          "--model.sleep.shard-mode=modulo",
                          "--model.sleep.balance=consistent_hash",
                          "--model.sleep.fallback=none",
                          "--model.sleep.schema=map",
                          "--model.sleep.schema-keys=a, b",
                          "--model.sleep.quantized=true",
                          "--model.sleep.cacheable=false",
                          "--model.sleep.timeout-ms=1500",
                          "--insecure"});
  REQUIRE(cfg);
  auto& r = cfg->routing;
  CHECK(r.balance == "least_latency");
  CHECK(r.missed_heartbeats == 7);
  CHECK(r.outlier.consecutive_failures == 3);
  CHECK(r.outlier.base_ejection_time == 250ms);
  CHECK(r.outlier.max_ejection_time == 4000ms);
  CHECK(r.outlier.max_ejection_percent == 30);
  CHECK(r.outlier.decay_interval == 0ms);
  REQUIRE(r.static_workers.size() == 2); // --worker is repeatable
  CHECK(r.static_workers[0].first == "10.0.0.1");
  CHECK(r.static_workers[1].second == 7001);
  auto& m = cfg->model_table.at("sleep").routing;
  CHECK(m.shards == 4);
  CHECK(m.mode == shard_mode::modulo);
  CHECK(m.balance == "consistent_hash");
  CHECK(m.fallback == fallback_mode::none);
  CHECK(m.schema == schema_type::map);
  CHECK(m.schema_keys == std::vector<std::string>{"a", "b"});
  CHECK(m.quantized);
  CHECK_FALSE(cfg->model_table.at("sleep").cacheable);
  CHECK(m.timeout == 1500ms);
}

TEST_CASE("routing keys: a file's `workers` list, then --worker appends") {
  node_config cfg;
  REQUIRE_FALSE(apply_config_text(cfg,
                                  "workers = a:1, b:2\n[model.x]\nshards = 3\n"
                                  "fallback = none\n",
                                  "f.ini"));
  CHECK(cfg.routing.static_workers.size() == 2);
  CHECK(cfg.model_table.at("x").routing.shards == 3);
  REQUIRE_FALSE(apply_option(cfg, "worker", "c:3", "command line"));
  CHECK(cfg.routing.static_workers.size() == 3);
}

TEST_CASE("routing keys: a worker node declares the shards it serves") {
  auto cfg = load_config(
      {"--role=worker", "--join=h:1", "--shards=0,2", "--insecure"});
  REQUIRE(cfg);
  CHECK(cfg->routing.served_shards == std::vector<uint32_t>{0, 2});
}

TEST_CASE("routing keys: a worker-only node with --listen and no --join is a "
          "static worker") {
  auto cfg = load_config({"--role=worker", "--listen=127.0.0.1:7500"});
  REQUIRE(cfg);
  CHECK(cfg->routing.listen_given);
  CHECK(cfg->join_host.empty());
  auto bad = load_config({"--role=worker"});
  REQUIRE_FALSE(bad);
  CHECK(message_of(bad.error()).find("join") != std::string::npos);
}

TEST_CASE("routing keys: bad values name the key") {
  struct bad_case {
    std::vector<std::string> args;
    std::string must_mention;
  };
  std::vector<bad_case> cases = {
      {{"--balance=fastest"}, "balance"},
      {{"--missed-heartbeats=x"}, "missed-heartbeats"},
      {{"--outlier-failures=0"}, "outlier-failures"},
      {{"--outlier-max-percent=101"}, "outlier-max-percent"},
      {{"--outlier-ejection-ms=5000", "--outlier-max-ejection-ms=100"},
       "max ejection"},
      {{"--worker=nohost"}, "worker"},
      {{"--worker=h:0"}, "worker"},
      {{"--workers=a:1,b"}, "workers"},
      {{"--shards=x"}, "shards"},
      {{"--model.m.shards=0"}, "model.m.shards"},
      {{"--model.m.shard-mode=hash"}, "shard-mode"},
      {{"--model.m.balance=best"}, "model.m.balance"},
      {{"--model.m.fallback=some"}, "fallback"},
      {{"--model.m.schema=tensor"}, "schema"},
      {{"--model.m.schema=str", "--model.m.schema-keys=a"}, "schema-keys"},
      {{"--model.m.quantized=yes"}, "quantized"},
      {{"--model.m.cacheable=1"}, "cacheable"},
      {{"--model.m.timeout-ms=-1"}, "timeout-ms"},
  };
  for (auto& c : cases) {
    CAPTURE(c.args[0]);
    auto cfg = load_config(c.args);
    REQUIRE_FALSE(cfg);
    CHECK(message_of(cfg.error()).find(c.must_mention) != std::string::npos);
  }
}

TEST_CASE("routing keys round-trip through the file format and --help") {
  auto cfg = load_config({"--role=coordinator", "--balance=weighted",
                          "--workers=a:1,b:2", "--outlier-failures=9",
                          "--model.big.backend=sleep", "--model.big.shards=5",
                          "--model.big.schema-keys=q",
                          "--model.big.timeout-ms=70", "--insecure"});
  REQUIRE(cfg);
  node_config again;
  again.model_table.clear();
  REQUIRE_FALSE(apply_config_text(again, to_config_text(*cfg), "rendered"));
  CHECK(again.routing.balance == "weighted");
  CHECK(again.routing.static_workers.size() == 2);
  CHECK(again.routing.outlier.consecutive_failures == 9);
  auto& m = again.model_table.at("big").routing;
  CHECK(m.shards == 5);
  CHECK(m.schema_keys == std::vector<std::string>{"q"});
  CHECK(m.timeout == 70ms);
  auto text = usage();
  for (auto key : {"balance", "missed-heartbeats", "outlier-failures", "worker",
                   "workers", "shards", "shard-mode", "fallback", "schema-keys",
                   "quantized", "cacheable", "timeout-ms"})
    CHECK(text.find(key) != std::string::npos);
}
