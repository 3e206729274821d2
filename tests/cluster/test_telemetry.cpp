// Telemetry through real processes (docs/operations.md, "Metrics" and
// "Request logs"): a coordinator with `--metrics-port` and a worker
// process; the metrics endpoint is read with real HTTP GETs before and
// after a known load, and the request log is read from the node's output.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>
#include <thread>

#include "harness.hpp"
#include "messages/errc.hpp"
#include "tests/prom_text.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

/// GET http://127.0.0.1:port/path; returns the body (chunked transfer
/// decoded) and sets `status` and `content_type`. Throws on socket errors.
std::string http_get(uint16_t port, const std::string& path, int& status,
                     std::string& content_type) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error("socket");
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    throw std::runtime_error("connect to metrics port failed");
  }
  auto req = "GET " + path +
             " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    throw std::runtime_error("write");
  }
  std::string resp;
  char buf[65536];
  for (;;) {
    auto n = read(fd, buf, sizeof buf);
    if (n <= 0)
      break;
    resp.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  auto end = resp.find("\r\n\r\n");
  if (end == std::string::npos || resp.compare(0, 9, "HTTP/1.1 ") != 0)
    throw std::runtime_error("not an HTTP response: " + resp.substr(0, 200));
  status = std::stoi(resp.substr(9, 3));
  auto head = resp.substr(0, end);
  auto body = resp.substr(end + 4);
  std::string lower;
  for (char c : head)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto ct = lower.find("\r\ncontent-type:");
  content_type =
      ct == std::string::npos
          ? ""
          : head.substr(ct + 15, head.find("\r\n", ct + 2) - ct - 15);
  if (lower.find("transfer-encoding: chunked") != std::string::npos) {
    std::string out;
    size_t pos = 0;
    for (;;) {
      auto eol = body.find("\r\n", pos);
      if (eol == std::string::npos)
        throw std::runtime_error("bad chunk");
      auto len = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
      if (len == 0)
        break;
      out += body.substr(eol + 2, len);
      pos = eol + 2 + len + 2;
    }
    body = out;
  }
  return body;
}

/// Scrapes /metrics and parses it (the parse checks the exposition rules).
prom_text scrape(uint16_t port) {
  int status = 0;
  std::string ct;
  auto body = http_get(port, "/metrics", status, ct);
  REQUIRE(status == 200);
  CHECK(ct.find("text/plain") != std::string::npos);
  return parse_prom_text(body);
}

double count_of(const prom_text& p, const std::string& model,
                const std::string& code) {
  auto v = p.value("dine_requests_total", {{"model", model}, {"code", code}});
  return std::isnan(v) ? 0 : v;
}

double hist_count(const prom_text& p, const std::string& name,
                  const std::string& model) {
  auto v = p.value(name + "_count", {{"model", model}});
  return std::isnan(v) ? 0 : v;
}

bool wait_workers(uint16_t port, size_t n) {
  auto until = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < until) {
    if (op(port, op_code::health)["workers"] == n)
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

/// The JSON request log lines in a node's output.
std::vector<nlohmann::json> request_lines(const std::string& log) {
  std::vector<nlohmann::json> out;
  std::istringstream in{log};
  std::string line;
  while (std::getline(in, line))
    if (line.find("\"event\":\"request\"") != std::string::npos)
      out.push_back(nlohmann::json::parse(line)); // throws if not JSON
  return out;
}

} // namespace

TEST_CASE("telemetry: one scrape of the coordinator counts exactly the "
          "requests sent, by model and outcome, and its text parses") {
  temp_dir dir;
  node_process coord{
      dir.path(),
      "coord",
      {"--role=coordinator", "--client-port=0", "--listen=127.0.0.1:0",
       "--metrics-port=0", "--trace-sample=1", "--log-format=json",
       "--heartbeat-interval-ms=100", "--connection-timeout-ms=2000"}};
  REQUIRE(coord.ready().contains("metrics_port"));
  uint16_t mport = coord.ready()["metrics_port"];
  REQUIRE(mport != 0);
  node_process w1{dir.path(),
                  "w1",
                  {"--role=worker",
                   "--join=127.0.0.1:" + std::to_string(coord.cluster_port()),
                   "--name=w1", "--models=echo", "--heartbeat-interval-ms=100",
                   "--connection-timeout-ms=2000"}};
  auto port = coord.client_port();
  REQUIRE(wait_workers(port, 1));
  auto before = scrape(mport);
  // A family shows its TYPE line once it has a series (prometheus-cpp
  // leaves out empty ones), so the types are checked after the load.
  auto ok0 = count_of(before, "echo", "ok");
  auto unk0 = count_of(before, "nosuch", "unknown_model");
  auto total0 = hist_count(before, "dine_request_duration_seconds", "echo");
  // The known load: 300 ok requests over 3 connections, one ok and one
  // failed request with the client's own trace id, 6 for a model nobody
  // serves.
  auto load = run_load(port, "echo", 300, 3, 16, 120s);
  REQUIRE(load.error.empty());
  REQUIRE(load.replies.size() == 300);
  for (auto& [id, rs] : load.replies) {
    REQUIRE(rs.size() == 1);
    REQUIRE(rs[0].code == 0);
    CHECK(rs[0].trace.size() == 32); // generated: the reply carries it
  }
  client_request ok_req;
  ok_req.id = 1;
  ok_req.model = "echo";
  ok_req.inputs = inputs_for(4242);
  ok_req.cache = false;
  ok_req.trace = "ok-trace-7";
  auto ok_reply = call(port, ok_req);
  REQUIRE(ok_reply.code == 0);
  CHECK(ok_reply.trace == "ok-trace-7");
  client_request bad;
  bad.id = 2;
  bad.model = "nosuch";
  bad.inputs = inputs_for(1);
  bad.trace = "client-trace-42";
  auto bad_reply = call(port, bad);
  REQUIRE(static_cast<errc>(bad_reply.code) == errc::unknown_model);
  CHECK(bad_reply.trace == "client-trace-42");
  for (uint64_t i = 0; i < 5; ++i) {
    bad.id = 10 + i;
    bad.trace.clear();
    REQUIRE(static_cast<errc>(call(port, bad).code) == errc::unknown_model);
  }
  // Replies are folded every sweep, the cluster snapshot every 250 ms:
  // wait until the scrape shows the load, then check it exactly.
  prom_text after;
  auto until = std::chrono::steady_clock::now() + 20s;
  do {
    std::this_thread::sleep_for(100ms);
    after = scrape(mport);
  } while (std::chrono::steady_clock::now() < until &&
           (count_of(after, "echo", "ok") - ok0 < 301 ||
            after.value("dine_batch_size_sum", {{"model", "echo"}}) < 301 ||
            !(after.value("dine_worker_resident_memory_bytes",
                          {{"worker", "w1"}}) > 0)));
  CHECK(after.types.count("dine_requests_total") == 1);
  CHECK(after.types["dine_requests_total"] == "counter");
  CHECK(after.types["dine_request_duration_seconds"] == "histogram");
  CHECK(count_of(after, "echo", "ok") - ok0 == 301);
  CHECK(count_of(after, "nosuch", "unknown_model") - unk0 == 6);
  // No other outcome for either model.
  CHECK(after.sum("dine_requests_total", {{"model", "echo"}}) ==
        count_of(after, "echo", "ok"));
  CHECK(after.sum("dine_requests_total", {{"model", "nosuch"}}) ==
        count_of(after, "nosuch", "unknown_model"));
  // Histogram counts equal request counts.
  CHECK(hist_count(after, "dine_request_duration_seconds", "echo") - total0 ==
        301);
  CHECK(hist_count(after, "dine_request_duration_seconds", "nosuch") ==
        count_of(after, "nosuch", "unknown_model"));
  CHECK(hist_count(after, "dine_queue_duration_seconds", "echo") ==
        count_of(after, "echo", "ok"));
  CHECK(hist_count(after, "dine_infer_duration_seconds", "echo") ==
        count_of(after, "echo", "ok"));
  CHECK(hist_count(after, "dine_queue_duration_seconds", "nosuch") == 0);
  // Every request ran in some batch on w1: batch sizes add up to them.
  CHECK(after.value("dine_batch_size_sum", {{"model", "echo"}}) == 301);
  CHECK(after.value("dine_worker_batches_total", {{"worker", "w1"}}) ==
        after.value("dine_batch_size_count", {{"model", "echo"}}));
  CHECK(after.value("dine_worker_up", {{"worker", "w1"}}) == 1);
  CHECK(after.value("dine_worker_resident_memory_bytes", {{"worker", "w1"}}) >
        0);
  CHECK(after.value("dine_requests_in_flight") == 0);
  CHECK(after.value("dine_process_resident_memory_bytes") > 0);
  CHECK(after.value("dine_process_cpu_seconds_total") > 0);
  CHECK(after.value("dine_log_dropped_total") == 0);
  // The request log: one valid JSON line per request (sample rate 1),
  // the client's trace ids in them.
  std::vector<nlohmann::json> lines;
  until = std::chrono::steady_clock::now() + 10s;
  do {
    std::this_thread::sleep_for(50ms);
    lines = request_lines(coord.log());
  } while (lines.size() < 307 && std::chrono::steady_clock::now() < until);
  CHECK(lines.size() == 307);
  int failed = 0;
  bool saw_ok = false;
  bool saw_bad = false;
  for (auto& j : lines) {
    CHECK(j["trace"].get<std::string>().size() > 0);
    CHECK(j.contains("timings"));
    if (j["outcome"] != "ok")
      ++failed;
    if (j["trace"] == "ok-trace-7") {
      saw_ok = true;
      CHECK(j["model"] == "echo");
      CHECK(j["worker"] == "w1");
      CHECK(j["outcome"] == "ok");
      CHECK(j["timings"]["total_us"].get<uint64_t>() >=
            j["timings"]["infer_us"].get<uint64_t>());
    }
    if (j["trace"] == "client-trace-42") {
      saw_bad = true;
      CHECK(j["model"] == "nosuch");
      CHECK(j["outcome"] == "unknown_model");
      CHECK(j["level"] == "warn");
    }
  }
  CHECK(failed == 6);
  CHECK(saw_ok);
  CHECK(saw_bad);
  // Scrapers that hang up before reading the reply cost the node nothing
  // (no SIGPIPE): it still serves and answers the next scrape.
  for (int i = 0; i < 20; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(mport);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    linger lg{1, 0}; // close with RST
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    REQUIRE(write(fd, req.data(), req.size()) ==
            static_cast<ssize_t>(req.size()));
    close(fd);
  }
  std::this_thread::sleep_for(200ms);
  CHECK(scrape(mport).value("dine_requests_in_flight") == 0);
  CHECK(call(port, ok_req).code == 0);
  // Any other path is not found.
  int status = 0;
  std::string ct;
  http_get(mport, "/nothing", status, ct);
  CHECK(status == 404);
}

TEST_CASE("telemetry: without --trace-sample only failed requests are "
          "logged, as text by default, and no metrics port unless asked") {
  temp_dir dir;
  node_process node{dir.path(), "all", {"--role=all", "--client-port=0"}};
  CHECK_FALSE(node.ready().contains("metrics_port"));
  auto port = node.client_port();
  client_request ok_req;
  ok_req.id = 1;
  ok_req.model = "echo";
  ok_req.inputs = inputs_for(1);
  ok_req.trace = "quiet-ok-1";
  REQUIRE(call(port, ok_req).code == 0);
  client_request bad = ok_req;
  bad.model = "nosuch";
  bad.trace = "loud-bad-1";
  REQUIRE(static_cast<errc>(call(port, bad).code) == errc::unknown_model);
  auto until = std::chrono::steady_clock::now() + 10s;
  while (node.log().find("trace=loud-bad-1") == std::string::npos &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  auto log = node.log();
  CHECK(log.find("trace=loud-bad-1") != std::string::npos);
  CHECK(log.find("outcome=unknown_model") != std::string::npos);
  CHECK(log.find("quiet-ok-1") == std::string::npos);
}
