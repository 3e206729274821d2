// API keys on the HTTP front door (docs/security.md, "HTTP front door"): a
// node with `api-keys-file` answers 401 without a valid `Authorization:
// Bearer KEY`, 403 to a user key on the admin routes, and serves a valid
// key exactly what the same key may do on the client port. Real node,
// real curl.

#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <thread>

#include "harness.hpp"
#include "http_util.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

using strings = std::vector<std::string>;

const std::string admin_key = "adm-http-5e1a9c3b7d2f4a6c";
const std::string user_key = "usr-http-8b0d2f4a6c8e1a3c";
const std::string other_key = "usr-http-3c5e7a9b1d0f2e4a";

std::string bearer(const std::string& key) {
  return "Authorization: Bearer " + key;
}

std::string code_of(const http_result& r) {
  auto j = r.json();
  return j.is_object() && j["error"].is_object() ? j["error"].value("code", "")
                                                 : "";
}

/// A node with both keys on its HTTP port.
struct keyed_node {
  temp_dir dir;
  std::unique_ptr<node_process> node;
  uint16_t port = 0;
  keyed_node() {
    {
      std::ofstream f{dir.path() + "/keys"};
      f << "admin " << admin_key << "\nuser " << user_key << "\nuser "
        << other_key << "\n";
    }
    node = std::make_unique<node_process>(
        dir.path(), "node",
        strings{"--role=all", "--client-port=0", "--http-port=0",
                "--models=echo", "--api-keys-file=" + dir.path() + "/keys"});
    port = node->ready().value("http_port", 0);
  }
};

const std::string echo_body = R"({"inputs":"hi"})";

} // namespace

TEST_CASE("http keys: no key or a wrong one gets 401 with a JSON error") {
  keyed_node n;
  for (auto& path : strings{"/v1/infer/echo", "/v1/models", "/api/stats",
                            "/health/ready", "/metrics", "/v1/requests/1"}) {
    CAPTURE(path);
    auto body = path == "/v1/infer/echo" ? echo_body : std::string{};
    auto none = curl(n.port, path, body);
    CHECK(none.status == 401);
    CHECK(code_of(none) == "unauthorized");
    auto wrong = curl(n.port, path, body, {}, 30s, {bearer(user_key + "x")});
    CHECK(wrong.status == 401);
    CHECK(code_of(wrong) == "unauthorized");
    CHECK(wrong.json()["error"]["type"] == "authentication_error");
  }
  // Another scheme, or the key without a scheme, is no key.
  CHECK(curl(n.port, "/v1/models", {}, {}, 30s, {"Authorization: " + user_key})
            .status == 401);
  CHECK(curl(n.port, "/v1/models", {}, {}, 30s,
             {"Authorization: Basic " + user_key})
            .status == 401);
  // RFC 7235: a 401 names the scheme.
  raw_conn c{n.port};
  c.send("GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto raw = c.read_all(10s);
  CHECK(status_of(raw) == 401);
  CHECK(raw.find("WWW-Authenticate: Bearer") != std::string::npos);
  // Liveness and the dashboard's static files need no key.
  CHECK(curl(n.port, "/health/live").status == 200);
  auto page = curl(n.port, "/");
  CHECK(page.status == 200);
  CHECK(page.body.find("api/stats") != std::string::npos);
}

TEST_CASE("http keys: a user key serves inference, not the admin routes") {
  keyed_node n;
  auto h = strings{bearer(user_key)};
  auto r = curl(n.port, "/v1/infer/echo", echo_body, {}, 30s, h);
  CHECK(r.status == 200);
  CHECK(r.json()["outputs"] == "hi");
  CHECK(curl(n.port, "/v1/models", {}, {}, 30s, h).status == 200);
  // Readiness (a probe sends the key too): ready once the worker is up.
  int ready = 0;
  for (int i = 0; i < 300 && ready != 200; ++i) {
    ready = curl(n.port, "/health/ready", {}, {}, 30s, h).status;
    if (ready != 200)
      std::this_thread::sleep_for(100ms);
  }
  CHECK(ready == 200);
  // An async job: made and read with the key, not without it.
  auto job = curl(n.port, "/v1/infer/echo?async=1", echo_body, {}, 30s, h);
  REQUIRE(job.status == 202);
  auto id = job.json()["id"].get<std::string>();
  CHECK(curl(n.port, "/v1/requests/" + id).status == 401);
  auto got = curl(n.port, "/v1/requests/" + id, {}, {}, 30s, h);
  CHECK((got.status == 200));
  for (auto& path : strings{"/api/stats", "/metrics"}) {
    CAPTURE(path);
    auto f = curl(n.port, path, {}, {}, 30s, h);
    CHECK(f.status == 403);
    CHECK(code_of(f) == "forbidden");
    CHECK(f.json()["error"]["type"] == "permission_error");
  }
  // A refusal does not close the door for the next request.
  CHECK(curl(n.port, "/v1/infer/echo", echo_body, {}, 30s, h).status == 200);
}

TEST_CASE("http keys: an admin key serves stats and metrics") {
  keyed_node n;
  auto h = strings{bearer(admin_key)};
  auto st = curl(n.port, "/api/stats", {}, {}, 30s, h);
  CHECK(st.status == 200);
  CHECK(st.json().is_object());
  auto m = curl(n.port, "/metrics", {}, {}, 30s, h);
  CHECK(m.status == 200);
  CHECK(m.body.find("# TYPE") != std::string::npos);
  CHECK(curl(n.port, "/v1/infer/echo", echo_body, {}, 30s, h).status == 200);
  // The lower-case scheme works too (RFC 7235: case-insensitive).
  CHECK(curl(n.port, "/api/stats", {}, {}, 30s,
             {"authorization: bearer " + admin_key})
            .status == 200);
}

TEST_CASE("http keys: an async job belongs to its key, admin reads all") {
  keyed_node n;
  auto mine = strings{bearer(user_key)};
  auto other = strings{bearer(other_key)};
  auto admin = strings{bearer(admin_key)};
  auto job = curl(n.port, "/v1/infer/echo?async=1", echo_body, {}, 30s, mine);
  REQUIRE(job.status == 202);
  auto path = "/v1/requests/" + job.json()["id"].get<std::string>();
  // Its maker sees it (pending or done).
  http_result got;
  for (int i = 0; i < 300; ++i) {
    got = curl(n.port, path, {}, {}, 30s, mine);
    if (got.status != 200 || got.json().value("status", "") == "done")
      break;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(got.status == 200);
  CHECK(got.json()["reply"]["outputs"] == "hi");
  // Another user key: 404 as for an id never made (not 403: no leak), and
  // it cannot cancel it either.
  auto peek = curl(n.port, path, {}, {}, 30s, other);
  CHECK(peek.status == 404);
  CHECK(code_of(peek) == "unknown_request");
  auto never = curl(n.port, "/v1/requests/999999", {}, {}, 30s, other);
  CHECK(never.status == 404);
  CHECK(peek.json()["error"]["message"].get<std::string>().find("no request") !=
        std::string::npos);
  auto del = curl(n.port, path, {}, "DELETE", 30s, other);
  CHECK(del.status == 404);
  // The admin key reads every job; the maker still has its result.
  auto adm = curl(n.port, path, {}, {}, 30s, admin);
  CHECK(adm.status == 200);
  CHECK(adm.json()["reply"]["outputs"] == "hi");
  got = curl(n.port, path, {}, {}, 30s, mine);
  CHECK(got.status == 200);
  CHECK(got.json()["status"] == "done");
  // A job the admin made is the admin's: a user key does not see it.
  auto ajob = curl(n.port, "/v1/infer/echo?async=1", echo_body, {}, 30s, admin);
  REQUIRE(ajob.status == 202);
  CHECK(curl(n.port, "/v1/requests/" + ajob.json()["id"].get<std::string>(), {},
             {}, 30s, mine)
            .status == 404);
}
