// The HTTP front door's pure parts: async job table, OpenAI translation,
// status mapping, JSON depth guard (http/).

#include <doctest/doctest.h>

#include "http/api.hpp"
#include "http/auth.hpp"
#include "http/errors.hpp"
#include "http/job_table.hpp"
#include "http/openai.hpp"

using namespace dine;
using namespace dine::http;
using json = nlohmann::json;
using ms = std::chrono::milliseconds;

TEST_CASE("an async job is pending, then done, then expires after its ttl") {
  job_table t{ms{100}, 10};
  auto now = job_table::clock::now();
  REQUIRE(t.add(7, now));
  auto j = t.get(7, now);
  REQUIRE(j);
  CHECK(j->st == job_table::state::pending);
  t.complete(7, 200, "{}", now + ms{10});
  j = t.get(7, now + ms{50});
  REQUIRE(j);
  CHECK(j->st == job_table::state::done);
  CHECK(j->status == 200);
  CHECK(j->body == "{}");
  CHECK_FALSE(t.get(7, now + ms{111}));
  CHECK(t.size() == 0);
}

TEST_CASE("the job table holds at most max_jobs, pending ones included") {
  job_table t{ms{100}, 2};
  auto now = job_table::clock::now();
  CHECK(t.add(1, now));
  CHECK(t.add(2, now));
  CHECK_FALSE(t.add(3, now));
  t.complete(1, 200, "{}", now);
  CHECK_FALSE(t.add(3, now + ms{50})); // done but kept
  CHECK(t.add(3, now + ms{100}));      // job 1 expired
}

TEST_CASE("a cancelled job ignores its late result and expires") {
  job_table t{ms{100}, 10};
  auto now = job_table::clock::now();
  t.add(1, now);
  CHECK(t.cancel(1, now));
  t.complete(1, 200, "{}", now);
  auto j = t.get(1, now);
  REQUIRE(j);
  CHECK(j->st == job_table::state::cancelled);
  CHECK_FALSE(t.cancel(99, now));
  CHECK_FALSE(t.get(1, now + ms{100}));
}

TEST_CASE("an async job is seen by the key that made it and by admins") {
  job_table t{ms{1000}, 10};
  auto now = job_table::clock::now();
  key_match maker{key_role::user, 2};
  key_match other{key_role::user, 3};
  key_match admin{key_role::admin, 1};
  REQUIRE(t.add(5, now, maker.key));
  t.complete(5, 200, "{}", now);
  CHECK(t.get(5, now, maker));
  CHECK(t.get(5, now, admin));
  CHECK_FALSE(t.get(5, now, other)); // as if it did not exist
  CHECK_FALSE(t.cancel(5, now, other));
  CHECK(t.cancel(5, now, maker));
  // An admin's job is the admin's; without keys everyone is admin.
  REQUIRE(t.add(6, now, admin.key));
  CHECK_FALSE(t.get(6, now, maker));
  REQUIRE(t.add(7, now));
  CHECK(t.get(7, now));
  CHECK(t.get(7, now, key_match{key_role::admin, 0}));
}

TEST_CASE("error codes map to the documented HTTP statuses") {
  CHECK(status_of(errc::invalid_input) == 400);
  CHECK(status_of(errc::invalid_request) == 400);
  CHECK(status_of(errc::unknown_model) == 404);
  CHECK(status_of(errc::frame_too_large) == 413);
  CHECK(status_of(errc::overloaded) == 429);
  CHECK(status_of(errc::unavailable) == 503);
  CHECK(status_of(errc::shutting_down) == 503);
  CHECK(status_of(errc::deadline_exceeded) == 504);
  CHECK(status_of(errc::worker_failed) == 502);
  CHECK(status_of(errc::internal) == 500);
  CHECK(status_of(errc::unauthorized) == 401);
  CHECK(status_of(errc::forbidden) == 403);
  CHECK(json::parse(error_body(errc::unauthorized, "x"))["error"]["type"] ==
        "authentication_error");
  auto j = json::parse(error_body(errc::unknown_model, "no model x"));
  CHECK(j["error"]["code"] == "unknown_model");
  CHECK(j["error"]["message"] == "no model x");
  CHECK(j["error"]["type"] == "not_found_error");
}

TEST_CASE("the chat template renders roles in order and ends with assistant") {
  std::string err;
  auto msgs = json::parse(R"([{"role":"system","content":"be brief"},
                              {"role":"user","content":"hi"}])");
  CHECK(chat_prompt(msgs, err) ==
        "<|system|>\nbe brief\n<|user|>\nhi\n<|assistant|>\n");
  CHECK(err.empty());
  chat_prompt(json::parse(R"([{"role":"tool","content":"x"}])"), err);
  CHECK(err.find("tool") != std::string::npos);
  err.clear();
  chat_prompt(json::array(), err);
  CHECK_FALSE(err.empty());
}

TEST_CASE("a completion request maps OpenAI fields to the model's inputs") {
  auto c = parse_completion(
      json::parse(R"({"model":"tiny","prompt":"Once","max_tokens":5,
                      "temperature":0.5,"top_p":0.9,"seed":3,"stop":["."],
                      "stream":true,"user":"ignored"})"),
      completion_kind::text);
  REQUIRE(c.error.empty());
  CHECK(c.model == "tiny");
  CHECK(c.stream);
  CHECK(c.inputs["prompt"] == "Once");
  CHECK(c.inputs["max_tokens"] == 5);
  CHECK(c.inputs["seed"] == 3);
  CHECK(c.inputs["stop"] == json::array({"."}));
  CHECK_FALSE(c.inputs.contains("user"));
  auto d = parse_completion(json::parse(R"({"model":"tiny","prompt":"x"})"),
                            completion_kind::text);
  CHECK(d.inputs["max_tokens"] == 16);
  CHECK_FALSE(d.stream);
}

TEST_CASE("a completion request with wrong types names the field") {
  auto bad = [](const char* body) {
    return parse_completion(json::parse(body), completion_kind::text).error;
  };
  CHECK(bad(R"({"prompt":"x"})").find("model") != std::string::npos);
  CHECK(bad(R"({"model":"m","prompt":5})").find("prompt") != std::string::npos);
  CHECK(bad(R"({"model":"m","prompt":"x","max_tokens":"5"})")
            .find("max_tokens") != std::string::npos);
  CHECK(bad(R"({"model":"m","prompt":"x","stream":"yes"})").find("stream") !=
        std::string::npos);
  CHECK(bad(R"({"model":"m","prompt":"x","n":2})").find("n = 1") !=
        std::string::npos);
  CHECK(bad(R"([1])").find("object") != std::string::npos);
}

TEST_CASE("completion responses and chunks have OpenAI's shape") {
  auto out = json::parse(R"({"text":"abc","finish_reason":"length",
                             "usage":{"prompt_tokens":3,"completion_tokens":4}})");
  auto r =
      completion_response(completion_kind::chat, "chatcmpl-1", "tiny", 5, out);
  CHECK(r["object"] == "chat.completion");
  CHECK(r["choices"][0]["message"]["content"] == "abc");
  CHECK(r["choices"][0]["finish_reason"] == "length");
  CHECK(r["usage"]["total_tokens"] == 7);
  auto t = completion_response(completion_kind::text, "cmpl-1", "tiny", 5, out);
  CHECK(t["object"] == "text_completion");
  CHECK(t["choices"][0]["text"] == "abc");
  auto c =
      completion_chunk(completion_kind::chat, "c", "tiny", 5, "de", {}, true);
  CHECK(c["object"] == "chat.completion.chunk");
  CHECK(c["choices"][0]["delta"]["role"] == "assistant");
  CHECK(c["choices"][0]["delta"]["content"] == "de");
  CHECK(c["choices"][0]["finish_reason"].is_null());
  auto e = completion_chunk(completion_kind::chat, "c", "tiny", 5, {}, "stop",
                            false);
  CHECK(e["choices"][0]["delta"] == json::object());
  CHECK(e["choices"][0]["finish_reason"] == "stop");
}

TEST_CASE("the JSON depth guard rejects deep nesting, ignoring strings") {
  CHECK(json_depth_ok(R"({"a":[1,[2]]})", 3));
  CHECK_FALSE(json_depth_ok("[[[[1]]]]", 3));
  CHECK(json_depth_ok(R"({"a":"[[[[[[["})", 2));
  CHECK(json_depth_ok(R"({"a":"\"[[[["})", 2));
}

TEST_CASE("the bearer key is read from an Authorization header") {
  CHECK(bearer_key("Bearer abc") == "abc");
  CHECK(bearer_key("bearer  abc ") == "abc");
  CHECK(bearer_key("BEARER\tabc") == "abc");
  CHECK(bearer_key("Basic YWJjOmRlZg==").empty());
  CHECK(bearer_key("Bearer").empty());
  CHECK(bearer_key("Bearer ").empty());
  CHECK(bearer_key("Bearerabc").empty());
  CHECK(bearer_key("").empty());
}

TEST_CASE("each HTTP route needs what its op needs on the client port") {
  CHECK_FALSE(route_op("/health/live", false));
  CHECK_FALSE(route_op("/", false));
  CHECK_FALSE(route_op("/dashboard/dashboard.js", false));
  CHECK(route_op("/health/ready", false) == op_code::health);
  CHECK(route_op("/v1/models", false) == op_code::models);
  CHECK(route_op("/v1/infer/echo", false) == op_code::infer);
  CHECK(route_op("/v1/chat/completions", false) == op_code::infer);
  CHECK(route_op("/v1/requests/7", false) == op_code::infer);
  CHECK(route_op("/v1/requests/7", true) == op_code::cancel);
  CHECK(route_op("/api/stats", false) == op_code::stats);
  CHECK(route_op("/metrics", false) == op_code::stats);
  CHECK(route_op("/no/such/route", false) == op_code::infer);
  // A user key runs every route but the admin ones.
  CHECK(api_keys::allows(key_role::user, *route_op("/v1/completions", false)));
  CHECK_FALSE(api_keys::allows(key_role::user, *route_op("/api/stats", false)));
  CHECK_FALSE(api_keys::allows(key_role::user, *route_op("/metrics", false)));
  CHECK(api_keys::allows(key_role::admin, *route_op("/metrics", false)));
}
