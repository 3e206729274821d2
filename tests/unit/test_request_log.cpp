// request_log and log_sink: which requests are logged, the line's JSON,
// that a full queue drops (and counts) instead of waiting, and the
// telemetry config keys.

#include <doctest/doctest.h>

#include <unistd.h>

#include <csignal>

#include <nlohmann/json.hpp>

#include "messages/errc.hpp"
#include "runtime/log_sink.hpp"
#include "runtime/node_config.hpp"
#include "runtime/request_log.hpp"

using namespace dine;

TEST_CASE("request log: failed requests always, ok ones by sample rate") {
  CHECK(should_log("t1", static_cast<uint8_t>(errc::overloaded), 0));
  CHECK_FALSE(should_log("t1", 0, 0));
  CHECK(should_log("t1", 0, 1));
  // A rate of 0.25 logs about a quarter of distinct ids, and the same id
  // always alike.
  trace_ids ids;
  int logged = 0;
  for (int i = 0; i < 4000; ++i) {
    auto id = trace_ids::text(ids.next());
    bool a = should_log(id, 0, 0.25);
    CHECK(a == should_log(id, 0, 0.25));
    logged += a ? 1 : 0;
  }
  CHECK(logged > 800);
  CHECK(logged < 1200);
}

TEST_CASE("request log: trace ids are 32 hex digits and distinct") {
  trace_ids ids;
  auto a = trace_ids::text(ids.next());
  auto b = trace_ids::text(ids.next());
  CHECK(a.size() == 32);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
  CHECK(a.substr(0, 16) == b.substr(0, 16)); // one prefix per process
  CHECK(b.substr(16) == "0000000000000002");
  CHECK(trace_ids::text(0x0123456789abcdefULL).substr(16) ==
        "0123456789abcdef");
  CHECK(trace_ids::text(~uint64_t{0}).substr(16) == "ffffffffffffffff");
  // A reply carries a generated id by number, or the client's id.
  client_reply r;
  CHECK(trace_of(r).empty());
  r.trace_n = 2;
  CHECK(trace_of(r) == b);
  r.trace = "client-1";
  CHECK(trace_of(r) == "client-1");
}

TEST_CASE("request log: a JSON line names trace, model, worker, stages") {
  client_reply r;
  r.trace = "abc-123";
  r.worker = "w\"1\n";
  r.code = static_cast<uint8_t>(errc::deadline_exceeded);
  r.message = "no result \x01 in time \xff";
  r.times.queue_us = 5;
  r.times.infer_us = 7;
  r.times.total_us = 20;
  auto j = nlohmann::json::parse(request_log_line("mod\\el", r, true));
  CHECK(j["trace"] == "abc-123");
  CHECK(j["model"] == "mod\\el");
  CHECK(j["worker"] == "w\"1\n");
  CHECK(j["outcome"] == "deadline_exceeded");
  CHECK(j["level"] == "warn");
  CHECK(j["timings"]["queue_us"] == 5);
  CHECK(j["timings"]["infer_us"] == 7);
  CHECK(j["timings"]["total_us"] == 20);
  for (auto stage : {"read_us", "preproc_us", "cache_us", "network_us",
                     "postproc_us", "write_us", "ttft_us", "tpot_us"})
    CHECK(j["timings"][stage] == 0);
  CHECK(j["message"].get<std::string>().find("in time") != std::string::npos);
  r.code = 0;
  auto t = request_log_line("m", r, false);
  CHECK(t.find("trace=abc-123") != std::string::npos);
  CHECK(t.find("outcome=ok") != std::string::npos);
  CHECK(t.find('\n') == std::string::npos);
}

TEST_CASE("log sink: lines arrive whole and in order, a full queue drops") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  {
    log_sink sink{fds[1], log_level::info, 1000};
    CHECK(sink.enabled(log_level::warn));
    CHECK_FALSE(sink.enabled(log_level::debug));
    for (int i = 0; i < 3; ++i)
      CHECK(sink.push("line " + std::to_string(i)));
    sink.flush();
    char buf[256] = {0};
    auto n = read(fds[0], buf, sizeof buf - 1);
    CHECK(std::string(buf, static_cast<size_t>(n)) ==
          "line 0\nline 1\nline 2\n");
    CHECK(sink.dropped() == 0);
  }
  close(fds[0]);
  close(fds[1]);
  // Nobody reads this pipe: once the pipe buffer and the queue are full,
  // push returns at once and counts drops.
  std::signal(SIGPIPE, SIG_IGN); // the reader goes away below
  REQUIRE(pipe(fds) == 0);
  {
    log_sink sink{fds[1], log_level::info, 8};
    std::string big(4096, 'x');
    size_t refused = 0;
    for (int i = 0; i < 200; ++i)
      if (!sink.push(big))
        ++refused;
    CHECK(refused > 0);
    CHECK(sink.dropped() == refused);
    close(fds[0]); // the writer thread gets EPIPE/error and goes on
  }
  close(fds[1]);
}

TEST_CASE("telemetry keys: metrics-port, trace-sample, log-level, "
          "log-format parse, validate and round-trip") {
  auto cfg = load_config({});
  REQUIRE(cfg);
  CHECK_FALSE(cfg->metrics);
  CHECK(cfg->trace_sample == 0);
  CHECK(cfg->log_format == "text");
  cfg = load_config({"--metrics-port=9464"});
  REQUIRE(cfg);
  CHECK(cfg->metrics);
  CHECK(cfg->metrics_host == "127.0.0.1");
  CHECK(cfg->metrics_port == 9464);
  cfg = load_config({"--metrics-port=0.0.0.0:0", "--trace-sample=0.25",
                     "--log-level=warn", "--log-format=json"});
  REQUIRE(cfg);
  CHECK(cfg->metrics_host == "0.0.0.0");
  CHECK(cfg->metrics_port == 0);
  CHECK(cfg->trace_sample == 0.25);
  auto text = to_config_text(*cfg);
  node_config again;
  again.model_table.clear();
  REQUIRE_FALSE(apply_config_text(again, text, "rendered"));
  CHECK(again.metrics);
  CHECK(again.metrics_host == "0.0.0.0");
  CHECK(again.trace_sample == 0.25);
  CHECK(again.log_level == "warn");
  CHECK(again.log_format == "json");
  for (auto bad :
       {"--metrics-port=70000", "--metrics-port=x", "--trace-sample=2",
        "--trace-sample=-0.1", "--trace-sample=abc", "--log-level=loud",
        "--log-format=xml"}) {
    CAPTURE(bad);
    CHECK_FALSE(load_config({bad}));
  }
}
