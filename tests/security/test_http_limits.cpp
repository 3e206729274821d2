// Hostile HTTP clients against a real node (docs/security.md, "HTTP front
// door"): oversized headers and bodies, byte-by-byte headers, idle and
// excess connections, malformed requests and JSON. Each gets its status
// and a JSON error, and the node keeps serving everyone else.

#include <doctest/doctest.h>

#include <memory>
#include <thread>

#include "harness.hpp"
#include "http_util.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

std::vector<std::string> http_node(std::vector<std::string> extra = {}) {
  std::vector<std::string> a{"--role=all", "--client-port=0", "--http-port=0",
                             "--models=echo"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

uint16_t http_port(const node_process& n) {
  return n.ready().value("http_port", 0);
}

/// The JSON error code of a raw response, or empty.
std::string error_code(const std::string& raw) {
  auto b = raw.find("\r\n\r\n");
  if (b == std::string::npos)
    return {};
  auto j = json::parse(raw.substr(b + 4), nullptr, false);
  return j.is_object() ? j["error"].value("code", "") : "";
}

void serves(uint16_t port) {
  auto r = curl(port, "/v1/infer/echo", R"({"inputs":"still here"})");
  CHECK(r.status == 200);
  CHECK(r.json()["outputs"] == "still here");
}

} // namespace

TEST_CASE("http: oversized headers get 431, oversized bodies 413 unread") {
  temp_dir dir;
  node_process n{dir.path(), "n",
                 http_node({"--http-max-header-bytes=1024",
                            "--http-max-body-bytes=4096"})};
  auto port = http_port(n);
  {
    raw_conn c{port};
    c.send("GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " +
           std::string(4000, 'a') + "\r\n\r\n");
    auto raw = c.read_all(10s);
    CHECK(status_of(raw) == 431);
    CHECK(error_code(raw) == "header_too_large");
  }
  {
    // The length alone is refused: the body is never sent, never buffered.
    raw_conn c{port};
    c.send("POST /v1/infer/echo HTTP/1.1\r\nHost: x\r\n"
           "Content-Length: 1099511627776\r\n\r\n");
    auto raw = c.read_all(10s);
    CHECK(status_of(raw) == 413);
    CHECK(error_code(raw) == "body_too_large");
  }
  auto big = curl(port, "/v1/infer/echo",
                  "{\"inputs\":\"" + std::string(8000, 'x') + "\"}");
  CHECK(big.status == 413);
  CHECK(big.json()["error"]["code"] == "body_too_large");
  serves(port);
}

TEST_CASE("http: malformed requests, bad JSON and deep nesting get 400") {
  temp_dir dir;
  node_process n{dir.path(), "n", http_node()};
  auto port = http_port(n);
  {
    raw_conn c{port};
    c.send("HELLO\x01 / HTTP/9\r\n\r\n");
    auto raw = c.read_all(10s);
    CHECK(status_of(raw) == 400);
    CHECK(error_code(raw) == "invalid_request");
  }
  auto deep = std::string(20000, '[') + std::string(20000, ']');
  auto r = curl(port, "/v1/infer/echo", "{\"inputs\":" + deep + "}");
  CHECK(r.status == 400);
  CHECK(r.json()["error"]["code"] == "bad_json");
  auto t = curl(port, "/v1/infer/echo", R"({"inputs":1,"cache":"no"})");
  CHECK(t.status == 400);
  CHECK(t.json()["error"]["message"].get<std::string>().find("cache") !=
        std::string::npos);
  auto u =
      curl(port, "/v1/chat/completions", R"({"model":"echo","messages":7})");
  CHECK(u.status == 400);
  CHECK(curl(port, "/v1/infer/echo", "{}", "PUT").status == 405);
  serves(port);
}

TEST_CASE("http: byte-by-byte and idle clients hold no thread, then close") {
  temp_dir dir;
  node_process n{dir.path(), "n", http_node({"--http-idle-timeout-ms=1500"})};
  auto port = http_port(n);
  // 16 clients trickle their headers; others are served meanwhile.
  std::vector<std::unique_ptr<raw_conn>> slow;
  for (int i = 0; i < 16; ++i) {
    slow.push_back(std::make_unique<raw_conn>(port));
    slow.back()->send("GET /health/live HTTP/1.1\r\n");
  }
  for (int k = 0; k < 5; ++k) {
    for (auto& c : slow)
      c->send("X");
    serves(port);
  }
  // The idle timeout bounds the whole request: they are closed.
  for (auto& c : slow)
    CHECK(c->closed_within(30s));
  // An idle keep-alive connection is closed too.
  raw_conn idle{port};
  CHECK(idle.closed_within(30s));
  serves(port);
}

TEST_CASE("http: connections above the limit get 503 and are closed") {
  temp_dir dir;
  node_process n{dir.path(), "n", http_node({"--http-max-connections=4"})};
  auto port = http_port(n);
  std::vector<std::unique_ptr<raw_conn>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<raw_conn>(port));
    held.back()->send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(status_of(held.back()->read_all(2s)) == 200); // kept alive
  }
  raw_conn extra{port};
  auto raw = extra.read_all(10s);
  CHECK(status_of(raw) == 503);
  CHECK(error_code(raw) == "overloaded");
  held.clear(); // closing them frees their slots
  bool ok = false;
  for (int i = 0; i < 100 && !ok; ++i) {
    ok = curl(port, "/health/live").status == 200;
    if (!ok)
      std::this_thread::sleep_for(50ms);
  }
  CHECK(ok);
  serves(port);
}
