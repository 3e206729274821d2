// The HTTP front door (docs/http.md) against real dine-node processes,
// driven by curl: infer, every error status, async jobs, models, OpenAI
// completions whole and streamed, health transitions.

#include <doctest/doctest.h>

#include <set>
#include <thread>

#include "harness.hpp"
#include "http_util.hpp"
#include "runtime/backends/model_writer.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

uint16_t http_port(const node_process& n) {
  return n.ready().value("http_port", 0);
}

/// A tiny random transformer in `dir` (docs/models.md).
std::vector<std::string> tiny_model(const std::string& dir) {
  model_shape s;
  s.dim = 64;
  s.hidden_dim = 128;
  s.n_layers = 2;
  s.n_heads = 4;
  s.n_kv_heads = 2;
  s.vocab_size = 512;
  s.seq_len = 128;
  s.shared_cls = false;
  auto ck = dir + "/tiny.bin";
  auto tok = dir + "/tiny.tok";
  REQUIRE(!write_random_checkpoint(ck, s, 1));
  REQUIRE(!make_vocabulary(512, 1).save(tok));
  return {"--checkpoint=" + ck, "--tokenizer=" + tok};
}

std::vector<std::string> plus(std::vector<std::string> a,
                              const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void check_error(const http_result& r, int status, const std::string& code) {
  INFO("body: " << r.body);
  CHECK(r.status == status);
  auto j = r.json();
  REQUIRE(j.is_object());
  CHECK(j["error"]["code"] == code);
  CHECK(j["error"]["message"].is_string());
}

} // namespace

TEST_CASE("http: infer returns the wire reply as JSON, errors their status") {
  temp_dir dir;
  node_process n{dir.path(),
                 "all",
                 {"--role=all", "--client-port=0", "--http-port=0",
                  "--models=echo,sleep", "--model.sleep.fixed-us=3000000"}};
  auto port = http_port(n);
  REQUIRE(port != 0);
  auto r = curl(port, "/v1/infer/echo",
                R"({"inputs":{"a":[1,2,"x"]},"cache":false,"priority":1})");
  REQUIRE(r.status == 200);
  auto j = r.json();
  CHECK(j["ok"] == true);
  CHECK(j["outputs"] == json::parse(R"({"a":[1,2,"x"]})"));
  CHECK(j["cached"] == false);
  CHECK(j["batch"].get<int>() >= 1);
  CHECK(j["timings"]["total"].is_number());
  check_error(curl(port, "/v1/infer/nope", R"({"inputs":1})"), 404,
              "unknown_model");
  check_error(curl(port, "/v1/infer/echo", R"({"inputs":)"), 400, "bad_json");
  check_error(curl(port, "/v1/infer/echo", R"([1,2])"), 400, "invalid_request");
  auto wrong = curl(port, "/v1/infer/echo", R"({"deadline_ms":"soon"})");
  check_error(wrong, 400, "invalid_request");
  CHECK(wrong.body.find("deadline_ms") != std::string::npos);
  check_error(curl(port, "/v1/infer/sleep",
                   R"({"inputs":1,"deadline_ms":100,"cache":false})"),
              504, "deadline_exceeded");
  check_error(curl(port, "/v1/infer/echo"), 405, "method_not_allowed");
  check_error(curl(port, "/v1/models", "{}"), 405, "method_not_allowed");
  check_error(curl(port, "/nowhere"), 404, "not_found");
  // Still serving after all of that.
  CHECK(curl(port, "/v1/infer/echo", R"({"inputs":2})").status == 200);
  auto live = curl(port, "/health/live");
  CHECK(live.status == 200);
  CHECK(live.json()["status"] == "live");
}

TEST_CASE("http: async jobs are pending, then done, cancellable, forgotten") {
  temp_dir dir;
  node_process n{dir.path(),
                 "all",
                 {"--role=all", "--client-port=0", "--http-port=0",
                  "--models=echo,sleep", "--model.sleep.fixed-us=1500000",
                  "--http-job-ttl-ms=2000", "--http-max-jobs=3"}};
  auto port = http_port(n);
  auto a = curl(port, "/v1/infer/echo?async=true", R"({"inputs":"hi"})");
  REQUIRE(a.status == 202);
  auto id = a.json()["id"].get<std::string>();
  CHECK(a.json()["status"] == "pending");
  http_result g;
  for (int i = 0; i < 100; ++i) {
    g = curl(port, "/v1/requests/" + id);
    if (g.json().value("status", "") != "pending")
      break;
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE(g.status == 200);
  CHECK(g.json()["status"] == "done");
  CHECK(g.json()["reply"]["outputs"] == "hi");
  // A slow one is pending; DELETE cancels it and its result never shows.
  auto s =
      curl(port, "/v1/infer/sleep?async=true", R"({"inputs":1,"cache":false})");
  REQUIRE(s.status == 202);
  auto sid = s.json()["id"].get<std::string>();
  CHECK(curl(port, "/v1/requests/" + sid).json()["status"] == "pending");
  auto d = curl(port, "/v1/requests/" + sid, {}, "DELETE");
  CHECK(d.status == 200);
  CHECK(d.json()["status"] == "cancelled");
  // An async job whose result is an error keeps its status.
  auto e = curl(port, "/v1/infer/nope?async=true", R"({"inputs":1})");
  REQUIRE(e.status == 202);
  auto eid = e.json()["id"].get<std::string>();
  REQUIRE(wait_status(port, "/v1/requests/" + eid, 404, 10s));
  check_error(curl(port, "/v1/requests/" + eid), 404, "unknown_model");
  // Bounded: three jobs are held, a fourth is refused.
  check_error(curl(port, "/v1/infer/echo?async=true", R"({"inputs":1})"), 429,
              "overloaded");
  check_error(curl(port, "/v1/requests/999999"), 404, "unknown_request");
  check_error(curl(port, "/v1/requests/abc", {}, "DELETE"), 404,
              "unknown_request");
  // Kept for the ttl, then forgotten.
  REQUIRE(wait_status(port, "/v1/requests/" + id, 404, 20s));
  check_error(curl(port, "/v1/requests/" + id), 404, "unknown_request");
}

TEST_CASE("http: OpenAI models, completions and chat, whole and streamed") {
  temp_dir dir;
  node_process n{
      dir.path(), "all",
      plus({"--role=all", "--client-port=0", "--http-port=0", "--models=echo"},
           tiny_model(dir.path()))};
  auto port = http_port(n);
  auto m = curl(port, "/v1/models");
  REQUIRE(m.status == 200);
  auto mj = m.json();
  CHECK(mj["object"] == "list");
  bool found = false;
  for (auto& e : mj["data"])
    found = found || (e["id"] == "transformer" && e["object"] == "model");
  CHECK(found);
  auto body = R"({"model":"transformer","prompt":"Once upon a time",
                  "max_tokens":12,"temperature":0})";
  auto c = curl(port, "/v1/completions", body);
  REQUIRE(c.status == 200);
  auto cj = c.json();
  CHECK(cj["object"] == "text_completion");
  auto whole = cj["choices"][0]["text"].get<std::string>();
  CHECK(cj["choices"][0]["finish_reason"].is_string());
  CHECK(cj["usage"]["completion_tokens"].get<int>() >= 1);
  CHECK(cj["usage"]["total_tokens"] ==
        cj["usage"]["prompt_tokens"].get<int>() +
            cj["usage"]["completion_tokens"].get<int>());
  // Streamed: chunks parsed event by event up to [DONE].
  auto sbody = R"({"model":"transformer","prompt":"Once upon a time",
                   "max_tokens":12,"temperature":0,"stream":true})";
  auto s = curl_events(port, "/v1/completions", sbody);
  REQUIRE(s.status == 200);
  REQUIRE(s.events.size() >= 2);
  CHECK(s.events.back() == "[DONE]");
  std::string streamed;
  for (size_t i = 0; i + 1 < s.events.size(); ++i) {
    auto e = json::parse(s.events[i], nullptr, false);
    REQUIRE(e.is_object());
    CHECK(e["object"] == "text_completion");
    streamed += e["choices"][0]["text"].get<std::string>();
    auto fr = e["choices"][0]["finish_reason"];
    CHECK(fr.is_null() == (i + 2 < s.events.size()));
  }
  CHECK(streamed == whole);
  // Chat: whole and streamed.
  auto chat = R"({"model":"transformer","max_tokens":6,
                  "messages":[{"role":"system","content":"brief"},
                              {"role":"user","content":"hello"}]})";
  auto ch = curl(port, "/v1/chat/completions", chat);
  REQUIRE(ch.status == 200);
  CHECK(ch.json()["object"] == "chat.completion");
  CHECK(ch.json()["choices"][0]["message"]["role"] == "assistant");
  auto chs = curl_events(port, "/v1/chat/completions",
                         R"({"model":"transformer","max_tokens":6,"stream":true,
                  "messages":[{"role":"user","content":"hello"}]})");
  REQUIRE(chs.status == 200);
  REQUIRE(chs.events.size() >= 2);
  CHECK(chs.events.back() == "[DONE]");
  auto first = json::parse(chs.events.front());
  CHECK(first["object"] == "chat.completion.chunk");
  CHECK(first["choices"][0]["delta"]["role"] == "assistant");
  auto last = json::parse(chs.events[chs.events.size() - 2]);
  CHECK(last["usage"]["completion_tokens"].get<int>() >= 1);
  // Errors in OpenAI's shape.
  check_error(
      curl(port, "/v1/completions", R"({"model":"gpt-none","prompt":"x"})"),
      404, "unknown_model");
  auto nf = curl(
      port, "/v1/chat/completions",
      R"({"model":"gpt-none","messages":[{"role":"user","content":"x"}]})");
  CHECK(nf.status == 404);
  CHECK(nf.json()["error"]["type"] == "not_found_error");
  check_error(curl(port, "/v1/completions",
                   R"({"model":"transformer","prompt":"x","max_tokens":"9"})"),
              400, "invalid_request");
  check_error(curl(port, "/v1/completions",
                   R"({"model":"transformer","prompt":"x","top_p":7})"),
              400, "invalid_input");
  check_error(curl(port, "/v1/completions", R"({"model":"echo","prompt":"x"})"),
              400, "not_generative");
}

TEST_CASE("http: ready only while a healthy worker serves each model") {
  temp_dir dir;
  auto model = tiny_model(dir.path());
  node_process coord{
      dir.path(), "coord",
      plus({"--role=coordinator", "--client-port=0", "--http-port=0",
            "--listen=127.0.0.1:0", "--heartbeat-interval-ms=100",
            "--connection-timeout-ms=1000"},
           model)};
  auto port = http_port(coord);
  auto r = curl(port, "/health/ready");
  check_error(r, 503, "unavailable");
  CHECK(r.json()["status"] == "not_ready");
  CHECK(curl(port, "/health/live").status == 200);
  {
    // A worker without the transformer: still not ready.
    node_process echo_only{
        dir.path(),
        "w1",
        {"--role=worker",
         "--join=127.0.0.1:" + std::to_string(coord.cluster_port()),
         "--name=w1", "--models=echo", "--heartbeat-interval-ms=100",
         "--connection-timeout-ms=1000"}};
    http_result half;
    for (int i = 0; i < 200; ++i) { // until w1 registered
      half = curl(port, "/health/ready");
      if (half.json().value("workers", json::array()).size() == 1)
        break;
      std::this_thread::sleep_for(50ms);
    }
    CHECK(half.json()["workers"] == json::array({"w1"}));
    CHECK(half.status == 503);
    CHECK(half.json()["missing"] == json::array({"transformer"}));
  }
  node_process w{
      dir.path(), "w2",
      plus({"--role=worker",
            "--join=127.0.0.1:" + std::to_string(coord.cluster_port()),
            "--name=w2", "--models=echo", "--heartbeat-interval-ms=100",
            "--connection-timeout-ms=1000"},
           model)};
  REQUIRE(wait_status(port, "/health/ready", 200, 20s));
  CHECK(curl(port, "/health/ready").json()["workers"] == json::array({"w2"}));
  w.kill_now();
  REQUIRE(wait_status(port, "/health/ready", 503, 20s));
}

TEST_CASE("http: GET /metrics serves the Prometheus text when no metrics "
          "port is set") {
  temp_dir dir;
  node_process n{
      dir.path(),
      "all",
      {"--role=all", "--client-port=0", "--http-port=0", "--models=echo"}};
  auto port = http_port(n);
  REQUIRE(port != 0);
  CHECK(n.ready().value("metrics_port", 0) == 0);
  for (int i = 0; i < 3; ++i)
    REQUIRE(
        curl(port, "/v1/infer/echo", R"({"inputs":1,"cache":false})").status ==
        200);
  // The coordinator folds its counts into the registry on its sweep.
  http_result m;
  for (int i = 0; i < 100; ++i) {
    m = curl(port, "/metrics");
    if (m.status == 200 && m.body.find("model=\"echo\"") != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  INFO("body: " << m.body.substr(0, 2000));
  CHECK(m.status == 200);
  CHECK(m.body.find("# TYPE dine_requests_total counter") != std::string::npos);
  CHECK(m.body.find("dine_requests_total{") != std::string::npos);
  CHECK(m.body.find("model=\"echo\"") != std::string::npos);
}

TEST_CASE("http: a traceparent header's trace id is the request's, echoed "
          "in the reply and a traceparent of its own, a malformed one "
          "ignored") {
  temp_dir dir;
  node_process n{dir.path(),
                 "all",
                 {"--role=all", "--client-port=0", "--http-port=0",
                  "--models=echo,tokens"}};
  auto port = http_port(n);
  REQUIRE(port != 0);
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string body = R"({"inputs":1,"cache":false})";
  auto r = curl(port, "/v1/infer/echo", body, {}, 30s,
                {"traceparent: 00-" + trace + "-00f067aa0ba902b7-01"});
  REQUIRE(r.status == 200);
  CHECK(r.json()["trace"] == trace);
  auto back = r.header("traceparent");
  INFO("traceparent: " << back);
  REQUIRE(back.size() == 55);
  CHECK(back.substr(0, 3) == "00-");
  CHECK(back.substr(3, 32) == trace);
  CHECK(back.substr(35, 1) == "-");
  CHECK(back.substr(36, 16) != "00f067aa0ba902b7"); // the node's own span
  CHECK(back.substr(36, 16) != std::string(16, '0'));
  CHECK(back.substr(52) == "-01"); // the caller's flags
  // Malformed headers: ignored, the request gets a fresh generated id.
  std::set<std::string> seen;
  for (std::string bad :
       {"00-" + trace + "-00f067aa0ba902b7", // no flags
        "00-" + std::string(32, '0') + "-00f067aa0ba902b7-01",
        "ff-" + trace + "-00f067aa0ba902b7-01",
        std::string{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"},
        std::string{"not a trace header"}}) {
    INFO("sent: " << bad);
    auto m =
        curl(port, "/v1/infer/echo", body, {}, 30s, {"traceparent: " + bad});
    REQUIRE(m.status == 200);
    auto t = m.json()["trace"].get<std::string>();
    CHECK(t.size() == 32);
    CHECK(t != trace);
    CHECK(t.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(seen.insert(t).second); // fresh each time
    auto h = m.header("traceparent");
    CHECK(h.size() == 55);
    CHECK(h.substr(3, 32) == t);
    CHECK(h.substr(52) == "-00");
  }
  // No header: generated too; a body `trace` wins over the header, and
  // a trace id that is not W3C gets no traceparent back.
  auto none = curl(port, "/v1/infer/echo", body);
  REQUIRE(none.status == 200);
  CHECK(none.json()["trace"].get<std::string>().size() == 32);
  auto own = curl(port, "/v1/infer/echo",
                  R"({"inputs":1,"cache":false,"trace":"client-trace-7"})", {},
                  30s, {"traceparent: 00-" + trace + "-00f067aa0ba902b7-01"});
  REQUIRE(own.status == 200);
  CHECK(own.json()["trace"] == "client-trace-7");
  CHECK(own.header("traceparent").empty());
  check_error(curl(port, "/v1/infer/echo", R"({"inputs":1,"trace":"a b"})"),
              400, "invalid_request");
  // Errors carry the trace id too.
  auto err = curl(port, "/v1/infer/nope", body, {}, 30s,
                  {"traceparent: 00-" + trace + "-00f067aa0ba902b7-00"});
  CHECK(err.status == 404);
  CHECK(err.json()["trace"] == trace);
  CHECK(err.header("traceparent").substr(3, 32) == trace);
  // A whole OpenAI completion answers with the header too.
  auto cmpl = curl(port, "/v1/completions",
                   R"({"model":"tokens","prompt":"hi","max_tokens":3})", {},
                   30s, {"traceparent: 00-" + trace + "-00f067aa0ba902b7-01"});
  INFO("completion: " << cmpl.body);
  CHECK(cmpl.status == 200);
  CHECK(cmpl.json()["object"] == "text_completion");
  auto ch = cmpl.header("traceparent");
  CHECK(ch.size() == 55);
  CHECK(ch.substr(3, 32) == trace);
  CHECK(ch.substr(52) == "-01");
}
