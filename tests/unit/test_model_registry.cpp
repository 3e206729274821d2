// runtime/model_registry.hpp: versions, shards, fallback, schemas.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "runtime/model_registry.hpp"

using namespace dine;

namespace {

std::map<std::string, model_config>
table_with(const std::string& name, uint32_t shards, fallback_mode fb) {
  model_config m;
  m.name = name;
  m.backend = "sleep";
  m.routing.shards = shards;
  m.routing.fallback = fb;
  return {{name, m}};
}

model_decl decl(const std::string& name, uint32_t version,
                std::vector<uint32_t> shards = {}) {
  model_decl d;
  d.name = name;
  d.version = version;
  d.shards = std::move(shards);
  return d;
}

auto always = [](uint32_t) { return true; };

std::vector<uint8_t> mp(const nlohmann::json& j) {
  auto bytes = nlohmann::json::to_msgpack(j);
  return {bytes.begin(), bytes.end()};
}

/// Finds a key hash whose home shard in `m` is `shard`.
uint64_t key_for(const model_registry::model& m, uint32_t shard) {
  for (uint64_t k = 1;; ++k)
    if (model_registry::home_shard(m, hash_key(std::to_string(k))) == shard)
      return hash_key(std::to_string(k));
}

} // namespace

TEST_CASE("registry: config models are known before any worker serves them") {
  model_registry reg{table_with("m", 1, fallback_mode::any), "round_robin"};
  auto d = reg.resolve("m", 0);
  REQUIRE(d.code == errc::none);
  CHECK(d.version == 1);
  reg.route(d, 42, always);
  CHECK(d.code == errc::unavailable);
  CHECK(d.message.find("model `m`") != std::string::npos);
  auto u = reg.resolve("nope", 0);
  CHECK(u.code == errc::unknown_model);
  CHECK(u.message == "unknown model `nope`");
}

TEST_CASE("registry: no version means the newest served, unknown versions "
          "are unknown_model") {
  model_registry reg{table_with("m", 1, fallback_mode::any), "round_robin"};
  reg.declare(1, "a", {decl("m", 1)});
  reg.declare(2, "b", {decl("m", 3)});
  CHECK(reg.resolve("m", 0).version == 3);
  CHECK(reg.resolve("m", 1).version == 1);
  auto bad = reg.resolve("m", 2);
  CHECK(bad.code == errc::unknown_model);
  CHECK(bad.message == "model `m` has no version 2 (known: 1, 3)");
  // Version 3 loses its worker: the newest *served* version is 1 again.
  reg.withdraw(2);
  CHECK(reg.resolve("m", 0).version == 1);
  // ... but 3 stays a known version (answered `unavailable`).
  auto d = reg.resolve("m", 3);
  CHECK(d.code == errc::none);
  reg.route(d, 7, always);
  CHECK(d.code == errc::unavailable);
}

TEST_CASE("registry: default_versions lists what a request without a "
          "version runs on") {
  model_registry reg{table_with("m", 1, fallback_mode::any), "round_robin"};
  auto only = [](std::vector<model_version> vs) {
    REQUIRE(vs.size() == 1);
    CHECK(vs[0].model == "m");
    return vs[0].version;
  };
  CHECK(only(reg.default_versions()) == 1); // configured, no worker yet
  reg.declare(1, "a", {decl("m", 1)});
  reg.declare(2, "b", {decl("m", 2)});
  CHECK(only(reg.default_versions()) == 2);
  reg.withdraw(2);
  CHECK(only(reg.default_versions()) == 1);
}

TEST_CASE("registry: workers declare shards, the rest are skipped") {
  model_registry reg{table_with("m", 3, fallback_mode::any), "least_latency"};
  std::vector<std::string> skipped;
  auto ts = reg.declare(1, "a", {decl("m", 1, {0, 2, 9})}, &skipped);
  REQUIRE(ts.size() == 2);
  CHECK(ts[0].shard == 0);
  CHECK(ts[1].shard == 2);
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].find("shard 9") != std::string::npos);
  auto all = reg.declare(2, "b", {decl("m", 1)});
  CHECK(all.size() == 3);
  CHECK(reg.serving({"m", 1, 0}) == 2);
  CHECK(reg.serving({"m", 1, 1}) == 1);
  auto info = reg.describe();
  REQUIRE(info.size() == 1);
  CHECK(info[0].shards == 3);
  CHECK(info[0].balance == "least_latency");
  CHECK(info[0].shard_workers ==
        std::vector<std::vector<std::string>>{{"a", "b"}, {"b"}, {"a", "b"}});
  CHECK(reg.withdraw(1).size() == 2);
  CHECK(reg.serving({"m", 1, 0}) == 1);
}

TEST_CASE("registry: a model only workers know takes their shard count") {
  model_registry reg{{}, "round_robin"};
  auto d = decl("custom", 4);
  d.shard_count = 2;
  CHECK(reg.declare(1, "a", {d}).size() == 2);
  auto m = reg.find("custom");
  REQUIRE(m != nullptr);
  CHECK(m->config.routing.shards == 2);
  CHECK_FALSE(m->configured);
  CHECK(reg.resolve("custom", 0).version == 4);
}

TEST_CASE("registry: the home shard when served, else fallback any / none") {
  for (auto fb : {fallback_mode::any, fallback_mode::none}) {
    CAPTURE(to_string(fb));
    model_registry reg{table_with("m", 4, fb), "round_robin"};
    reg.declare(1, "a", {decl("m", 1, {0, 1})});
    reg.declare(2, "b", {decl("m", 1, {2})});
    auto& m = *reg.find("m");
    auto route = [&](uint64_t key) {
      auto d = reg.resolve("m", 0);
      reg.route(d, key, always);
      return d;
    };
    auto home = route(key_for(m, 2));
    CHECK(home.code == errc::none);
    CHECK(home.shard == 2);
    CHECK_FALSE(home.fallback);
    // Shard 3 has no worker.
    auto k3 = key_for(m, 3);
    auto d = route(k3);
    if (fb == fallback_mode::none) {
      CHECK(d.code == errc::unavailable);
      CHECK(d.message.find("shard 3") != std::string::npos);
      CHECK(d.message.find("fallback = none") != std::string::npos);
    } else {
      CHECK(d.code == errc::none);
      CHECK(d.fallback);
      CHECK(d.shard != 3);
      CHECK(route(k3).shard == d.shard); // stable per key
    }
  }
}

TEST_CASE("registry: fallback spreads the keys of a dead shard over the live "
          "ones and respects `usable`") {
  model_registry reg{table_with("m", 4, fallback_mode::any), "round_robin"};
  reg.declare(1, "a", {decl("m", 1, {1, 2, 3})});
  auto& m = *reg.find("m");
  std::map<uint32_t, int> hits;
  for (uint64_t k = 1; k < 4000; ++k) {
    auto key = hash_key("k" + std::to_string(k));
    if (model_registry::home_shard(m, key) != 0)
      continue;
    auto d = reg.resolve("m", 0);
    reg.route(d, key, always);
    REQUIRE(d.code == errc::none);
    ++hits[d.shard];
  }
  CHECK(hits.size() == 3); // every live shard takes some
  // The router reports shard 1 unusable (its batcher's pool is empty).
  auto d = reg.resolve("m", 0);
  reg.route(d, key_for(m, 1), [](uint32_t s) { return s != 1; });
  CHECK(d.code == errc::none);
  CHECK(d.shard != 1);
  d = reg.resolve("m", 0);
  reg.route(d, key_for(m, 1), [](uint32_t) { return false; });
  CHECK(d.code == errc::unavailable);
}

TEST_CASE("request_key_hash: the key, else model + version + inputs") {
  client_request a;
  a.model = "m";
  a.inputs = mp({{"x", 1}});
  auto b = a;
  CHECK(request_key_hash(a) == request_key_hash(b));
  CHECK(request_key_hash(a) != 0);
  b.version = 2;
  CHECK(request_key_hash(a) != request_key_hash(b));
  b = a;
  b.inputs = mp({{"x", 2}});
  CHECK(request_key_hash(a) != request_key_hash(b));
  a.key = b.key = "user-7";
  CHECK(request_key_hash(a) == request_key_hash(b));
  CHECK(request_key_hash(a) == hash_key("user-7"));
}

TEST_CASE("declare_shards fills the registration record from the config") {
  node_config cfg;
  cfg.model_table = table_with("m", 3, fallback_mode::any);
  cfg.routing.served_shards = {1, 2};
  worker_info info;
  info.models.push_back(decl("m", 1));
  info.models.push_back(decl("other", 1));
  declare_shards(info, cfg);
  CHECK(info.models[0].shard_count == 3);
  CHECK(info.models[0].shards == std::vector<uint32_t>{1, 2});
  CHECK(info.models[1].shard_count == 0);
}

TEST_CASE("check_inputs: top-level types") {
  model_routing r;
  CHECK(check_inputs(r, mp(5)).empty()); // any
  r.schema = schema_type::map;
  CHECK(check_inputs(r, mp({{"a", 1}})).empty());
  CHECK(check_inputs(r, mp({1, 2})) == "inputs must be a map");
  r.schema = schema_type::array;
  CHECK(check_inputs(r, mp({1, 2})).empty());
  CHECK(check_inputs(r, mp("s")) == "inputs must be a array");
  r.schema = schema_type::str;
  CHECK(check_inputs(r, mp("s")).empty());
  CHECK_FALSE(check_inputs(r, mp(1)).empty());
  r.schema = schema_type::int_;
  CHECK(check_inputs(r, mp(-3)).empty());
  CHECK(check_inputs(r, mp(3)).empty());
  CHECK(check_inputs(r, mp(1.5)) == "inputs must be an int");
  r.schema = schema_type::float_;
  CHECK(check_inputs(r, mp(1.5)).empty());
  CHECK(check_inputs(r, mp(2)).empty());
  r.schema = schema_type::bool_;
  CHECK(check_inputs(r, mp(true)).empty());
  CHECK_FALSE(check_inputs(r, mp(nullptr)).empty());
  r.schema = schema_type::bin;
  CHECK(check_inputs(r, mp(nlohmann::json::binary({1, 2}))).empty());
  CHECK_FALSE(check_inputs(r, {}).empty()); // no inputs at all
}

TEST_CASE("check_inputs: required map keys") {
  model_routing r;
  r.schema_keys = {"text", "lang"}; // implies a map
  CHECK(
      check_inputs(r, mp({{"text", "hi"}, {"lang", "en"}, {"x", 1}})).empty());
  CHECK(check_inputs(r, mp({{"text", "hi"}})) ==
        "inputs lack required key `lang`");
  CHECK(check_inputs(r, mp({{"x", {{"text", 1}}}})) ==
        "inputs lack required keys `text`, `lang`");
  CHECK(check_inputs(r, mp({1})) ==
        "inputs must be a map with keys `text`, `lang`");
  // Malformed: a map header claiming more entries than there are.
  std::vector<uint8_t> bad{0x82, 0xA4, 't', 'e', 'x', 't', 0x01};
  CHECK(check_inputs(r, bad) == "inputs are malformed msgpack");
}

TEST_CASE("registry: targets_of lists what a worker serves without "
          "withdrawing it") {
  model_registry reg{table_with("m", 2, fallback_mode::any), "round_robin"};
  reg.declare(1, "a", {decl("m", 1, {1})});
  reg.declare(2, "b", {decl("m", 1)});
  auto a = reg.targets_of(1);
  REQUIRE(a.size() == 1);
  CHECK(a[0].shard == 1);
  CHECK(reg.targets_of(2).size() == 2);
  CHECK(reg.targets_of(3).empty());
  CHECK(reg.withdraw(1).size() == 1); // still declared
  CHECK(reg.targets_of(1).empty());
}
