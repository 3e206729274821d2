// admission_policy: deadline precedence, cacheability and the version a
// cache key names.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "runtime/admission_policy.hpp"
#include "runtime/cache_key.hpp"

using namespace dine;
using namespace std::chrono_literals;

namespace {

node_config config() {
  node_config cfg;
  cfg.request_timeout = 10000ms;
  cfg.model_table = builtin_models();
  cfg.model_table["slow"].name = "slow";
  cfg.model_table["slow"].routing.timeout = 30000ms;
  cfg.model_table["nocache"].name = "nocache";
  cfg.model_table["nocache"].cacheable = false;
  cfg.model_table["echo"].cache_ttl_ms = 77;
  return cfg;
}

client_request request(const std::string& model,
                       const nlohmann::json& inputs = {{"x", 1}}) {
  client_request r;
  r.model = model;
  auto b = nlohmann::json::to_msgpack(inputs);
  r.inputs.assign(b.begin(), b.end());
  return r;
}

const auto t0 = admission::clock::time_point{} + 1h; // an injected clock

} // namespace

TEST_CASE("the deadline is the request's, else the model's, else the node's") {
  admission_policy p{config()};
  auto r = request("slow");
  auto a = p.admit(r, t0);
  CHECK(a.timeout == 30000ms);
  CHECK(a.deadline == t0 + 30000ms);
  r.deadline_ms = 250;
  CHECK(p.admit(r, t0).timeout == 250ms);
  CHECK(p.admit(request("echo"), t0).timeout == 10000ms);
  CHECK(p.admit(request("unknown"), t0 + 5ms).deadline == t0 + 10005ms);
}

TEST_CASE("cacheable requests get a key naming the default version") {
  admission_policy p{config()};
  auto r = request("echo");
  auto a = p.admit(r, t0);
  CHECK(a.key == cache_key("echo", 0, r.inputs)); // no default known yet
  CHECK(a.ttl_ms == 77);
  p.set_default_versions({model_version{"echo", 3}});
  a = p.admit(r, t0);
  CHECK(a.key_version == 3);
  CHECK(a.key == cache_key("echo", 3, r.inputs));
  r.version = 2; // an explicit version wins
  CHECK(p.admit(r, t0).key_version == 2);
  r.key = "user-7";
  CHECK(p.admit(r, t0).key == cache_key_for_key("echo", 2, "user-7"));
}

TEST_CASE("no key without the request's and the model's consent or when "
          "streamed") {
  admission_policy p{config()};
  auto r = request("echo");
  r.cache = false;
  CHECK(p.admit(r, t0).key.empty());
  CHECK(p.admit(request("nocache"), t0).key.empty());
  auto s = request("echo");
  s.stream = true;
  CHECK(p.admit(s, t0).key.empty());
}

TEST_CASE("a generative model caches greedy requests only") {
  admission_policy p{config()};
  CHECK_FALSE(p.admit(request("tokens", {{"prompt", "a"}}), t0).key.empty());
  CHECK_FALSE(
      p.admit(request("tokens", {{"prompt", "a"}, {"temperature", 0}}), t0)
          .key.empty());
  CHECK(p.admit(request("tokens", {{"prompt", "a"}, {"temperature", 0.7}}), t0)
            .key.empty());
  CHECK(p.admit(request("tokens", {{"temperature", "hot"}}), t0).key.empty());
  // Non-generative models do not look at a temperature.
  CHECK_FALSE(p.admit(request("echo", {{"temperature", 0.7}}), t0).key.empty());
}

TEST_CASE("a model the config does not define is not cached when sampled") {
  // Only the workers know `transformer` here: it may be generative.
  admission_policy p{config()};
  CHECK(p.admit(request("transformer", {{"prompt", "a"}, {"temperature", 0.7}}),
                t0)
            .key.empty());
  CHECK_FALSE(
      p.admit(request("transformer", {{"prompt", "a"}}), t0).key.empty());
  CHECK_FALSE(
      p.admit(request("transformer", {{"prompt", "a"}, {"temperature", 0}}), t0)
          .key.empty());
  CHECK_FALSE(
      p.admit(request("mine", nlohmann::json::array({1, 2})), t0).key.empty());
}
