// metrics_hub and request_recorder: what a scrape shows after folds and a
// cluster snapshot, and that the text parses under the exposition rules;
// metrics_server answering over a real socket.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "messages/errc.hpp"
#include "runtime/metrics_hub.hpp"
#include "runtime/metrics_server.hpp"
#include "tests/prom_text.hpp"

using namespace dine;
using dine::test::parse_prom_text;

namespace {

timings times(uint32_t total, uint32_t queue, uint32_t infer) {
  timings t;
  t.total_us = total;
  t.queue_us = queue;
  t.infer_us = infer;
  return t;
}

} // namespace

TEST_CASE("metrics hub: replies by model and code, histogram counts") {
  metrics_hub hub;
  request_recorder rec;
  for (int i = 0; i < 5; ++i)
    rec.record("echo", 0, times(1500, 200, 800), true);
  rec.record("echo", 3, times(40, 0, 0), false);
  rec.record("cost", 0, times(12000000, 0, 0), false); // 12 s: +Inf
  hub.fold(rec);
  CHECK(rec.empty());
  rec.record("echo", 0, times(100, 10, 50), true);
  hub.fold(rec);
  auto p = parse_prom_text(hub.prometheus_text());
  CHECK(p.types.at("dine_requests_total") == "counter");
  CHECK(p.types.at("dine_request_duration_seconds") == "histogram");
  CHECK(p.value("dine_requests_total", {{"model", "echo"}, {"code", "ok"}}) ==
        6);
  auto err = to_string(static_cast<errc>(3));
  CHECK(p.value("dine_requests_total", {{"model", "echo"}, {"code", err}}) ==
        1);
  CHECK(p.value("dine_requests_total", {{"model", "cost"}, {"code", "ok"}}) ==
        1);
  CHECK(p.value("dine_request_duration_seconds_count", {{"model", "echo"}}) ==
        7);
  // Only replies a worker ran have queue and infer time.
  CHECK(p.value("dine_queue_duration_seconds_count", {{"model", "echo"}}) == 6);
  CHECK(p.value("dine_infer_duration_seconds_count", {{"model", "cost"}}) == 0);
  // 40 us and 100 us (a bucket's bound is inclusive).
  CHECK(p.value("dine_request_duration_seconds_bucket",
                {{"model", "echo"}, {"le", "5e-05"}}) == 1);
  CHECK(p.value("dine_request_duration_seconds_bucket",
                {{"model", "echo"}, {"le", "0.0001"}}) == 2);
  CHECK(p.value("dine_request_duration_seconds_bucket",
                {{"model", "echo"}, {"le", "0.0025"}}) == 7);
  CHECK(p.value("dine_request_duration_seconds_bucket",
                {{"model", "cost"}, {"le", "10"}}) == 0);
  CHECK(p.value("dine_request_duration_seconds_bucket",
                {{"model", "cost"}, {"le", "+Inf"}}) == 1);
  CHECK(p.value("dine_request_duration_seconds_sum", {{"model", "cost"}}) ==
        doctest::Approx(12.0));
  CHECK(p.value("dine_process_resident_memory_bytes") > 0);
  CHECK(p.value("dine_process_cpu_seconds_total") >= 0);
}

TEST_CASE("metrics hub: the cluster snapshot per model and worker") {
  metrics_hub hub;
  cluster_stats cs;
  batcher_stats b1;
  b1.model = "echo";
  b1.size_histogram = {3, 0, 1, 0, 2}; // sizes 1 x3, 3 x1, 5 x2
  b1.queued = 4;
  batcher_stats b2 = b1; // a second shard of the same model
  b2.size_histogram = {1};
  b2.queued = 1;
  cs.batchers = {b1, b2};
  worker_stats w;
  w.name = "w1";
  w.ejections = 2;
  w.ejected = true;
  w.kv_blocks_used = 7;
  w.rss_bytes = 4096;
  w.cpu_us = 1500000;
  w.restarts = 3;
  cs.workers = {w};
  cache_stats c;
  c.hits = 10;
  c.misses = 4;
  c.evictions = 1;
  hub.set_cluster(cs, 9, &c);
  hub.set_log_dropped(5);
  auto p = parse_prom_text(hub.prometheus_text());
  CHECK(p.value("dine_queue_depth", {{"model", "echo"}}) == 5);
  CHECK(p.value("dine_batch_size_count", {{"model", "echo"}}) == 7);
  CHECK(p.value("dine_batch_size_sum", {{"model", "echo"}}) == 17);
  CHECK(p.value("dine_batch_size_bucket", {{"model", "echo"}, {"le", "1"}}) ==
        4);
  CHECK(p.value("dine_batch_size_bucket", {{"model", "echo"}, {"le", "4"}}) ==
        5);
  CHECK(p.value("dine_batch_size_bucket", {{"model", "echo"}, {"le", "8"}}) ==
        7);
  CHECK(p.value("dine_requests_in_flight") == 9);
  CHECK(p.value("dine_cache_hits_total") == 10);
  CHECK(p.value("dine_cache_misses_total") == 4);
  CHECK(p.value("dine_cache_evictions_total") == 1);
  CHECK(p.value("dine_worker_up", {{"worker", "w1"}}) == 0);
  CHECK(p.value("dine_worker_ejections_total", {{"worker", "w1"}}) == 2);
  CHECK(p.value("dine_worker_kv_blocks_used", {{"worker", "w1"}}) == 7);
  CHECK(p.value("dine_worker_resident_memory_bytes", {{"worker", "w1"}}) ==
        4096);
  CHECK(p.value("dine_worker_cpu_seconds_total", {{"worker", "w1"}}) == 1.5);
  CHECK(p.value("dine_worker_supervisor_restarts_total", {{"worker", "w1"}}) ==
        3);
  CHECK(p.value("dine_log_dropped_total") == 5);
  // Without a cache, no cache series at all.
  hub.set_cluster(cs, 0, nullptr);
  auto q = parse_prom_text(hub.prometheus_text());
  CHECK(q.types.count("dine_cache_hits_total") == 0);
}

TEST_CASE("metrics hub: supervisor restarts are counted process-wide") {
  auto before = supervisor_restarts();
  count_supervisor_restart();
  count_supervisor_restart();
  CHECK(supervisor_restarts() == before + 2);
  metrics_hub hub;
  auto p = parse_prom_text(hub.prometheus_text());
  CHECK(p.value("dine_supervisor_restarts_total") ==
        static_cast<double>(before + 2));
}

TEST_CASE("prometheus text parser: rejects what the rules forbid") {
  using dine::test::parse_prom_text;
  CHECK_NOTHROW(parse_prom_text("# TYPE a counter\na{x=\"1\\\"\"} 2\n"));
  CHECK_THROWS(parse_prom_text("a 1")); // no final newline
  CHECK_THROWS(parse_prom_text("1a 1\n"));
  CHECK_THROWS(parse_prom_text("a{x=1} 1\n"));
  CHECK_THROWS(parse_prom_text("a one\n"));
  CHECK_THROWS(parse_prom_text("a 1\nb 1\na 2\n")); // not contiguous
  CHECK_THROWS(parse_prom_text("# TYPE a counter\n# TYPE a gauge\n"));
  CHECK_THROWS(parse_prom_text("# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                               "h_bucket{le=\"+Inf\"} 1\nh_count 1\n"));
  CHECK_THROWS(parse_prom_text("# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
                               "h_bucket{le=\"+Inf\"} 2\nh_count 3\n"));
}

TEST_CASE("metrics server: GET /metrics over a real socket, 404 and 405") {
  auto hub = std::make_shared<metrics_hub>();
  CHECK(metrics_server::respond("GET /metrics HTTP/1.1\r\n\r\n", *hub)
            .rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(metrics_server::respond("GET /metrics?x=1 HTTP/1.0\r\n\r\n", *hub)
            .rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(metrics_server::respond("GET /other HTTP/1.1\r\n\r\n", *hub)
            .rfind("HTTP/1.1 404", 0) == 0);
  CHECK(metrics_server::respond("POST /metrics HTTP/1.1\r\n\r\n", *hub)
            .rfind("HTTP/1.1 405", 0) == 0);
  CHECK(metrics_server::respond("garbage\r\n\r\n", *hub)
            .rfind("HTTP/1.1 400", 0) == 0);
  auto srv = metrics_server::start(hub, "127.0.0.1", 0);
  REQUIRE(srv);
  auto port = (*srv)->port();
  REQUIRE(port != 0);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(write(fd, req.data(), req.size()) ==
          static_cast<ssize_t>(req.size()));
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    resp.append(buf, static_cast<size_t>(n));
  close(fd);
  REQUIRE(resp.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  auto body = resp.substr(resp.find("\r\n\r\n") + 4);
  auto p = parse_prom_text(body);
  CHECK(p.value("dine_process_resident_memory_bytes") > 0);
}
