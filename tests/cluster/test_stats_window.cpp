// The `stats` op's recent window, what the dashboard draws: per-model
// throughput and p50/p99 series, the latest errors, and the workers'
// health, from a real coordinator and two real workers under load.

#include <doctest/doctest.h>

#include <thread>

#include "harness.hpp"
#include "messages/errc.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> worker(const node_process& coord,
                                const std::string& name) {
  return {"--role=worker",
          "--join=127.0.0.1:" + std::to_string(coord.cluster_port()),
          "--name=" + name,
          "--models=echo",
          "--heartbeat-interval-ms=100",
          "--connection-timeout-ms=1000"};
}

/// The `models` entry of `model` in `stats`, or null.
nlohmann::json model_entry(const nlohmann::json& stats,
                           const std::string& model) {
  for (auto& m : stats["models"])
    if (m["model"] == model)
      return m;
  return nullptr;
}

} // namespace

TEST_CASE("stats: per-model throughput and latency series, recent errors "
          "and worker health after a load") {
  temp_dir dir;
  node_process coord{dir.path(),
                     "coord",
                     {"--role=coordinator", "--client-port=0",
                      "--listen=127.0.0.1:0", "--heartbeat-interval-ms=100",
                      "--connection-timeout-ms=1000"}};
  node_process w1{dir.path(), "w1", worker(coord, "w1")};
  node_process w2{dir.path(), "w2", worker(coord, "w2")};
  auto port = coord.client_port();
  for (int i = 0; i < 200 && op(port, op_code::health)["workers"] != 2; ++i)
    std::this_thread::sleep_for(50ms);
  auto res = run_load(port, "echo", 1000, 4, 16, 60s, 2000);
  REQUIRE(res.replies.size() == 1000);
  client_request bad;
  bad.id = 7;
  bad.model = "nosuch";
  bad.inputs = inputs_for(7);
  auto r = call(port, bad);
  REQUIRE(r.code == static_cast<uint8_t>(errc::unknown_model));
  // The current bucket is left out of the series: poll until the load's
  // buckets are complete.
  nlohmann::json stats;
  nlohmann::json echo;
  for (int i = 0; i < 100; ++i) {
    stats = op(port, op_code::stats);
    echo = model_entry(stats, "echo");
    uint64_t seen = 0;
    if (!echo.is_null())
      for (auto& c : echo["series"]["count"])
        seen += c.get<uint64_t>();
    if (seen == 1000)
      break;
    std::this_thread::sleep_for(100ms);
  }
  INFO("stats: " << stats.dump());
  CHECK(stats["window"]["bucket_ms"] == 1000);
  CHECK(stats["window"]["summary_ms"] == 10000);
  REQUIRE(echo.is_object());
  CHECK(echo["ok"] == 1000);
  CHECK(echo["errors"] == 0);
  CHECK(echo["rps"].get<double>() > 0);
  auto p50 = echo["p50_us"].get<uint64_t>();
  auto p99 = echo["p99_us"].get<uint64_t>();
  CHECK(p50 > 0);
  CHECK(p99 >= p50);
  auto& series = echo["series"];
  REQUIRE(series["count"].size() == 179);
  CHECK(series["p50_us"].size() == 179);
  CHECK(series["p99_us"].size() == 179);
  CHECK(series["errors"].size() == 179);
  uint64_t total = 0;
  for (size_t i = 0; i < 179; ++i) {
    auto c = series["count"][i].get<uint64_t>();
    total += c;
    // A bucket with replies has percentiles; an empty one has none.
    CHECK((c > 0) == (series["p50_us"][i].get<uint64_t>() > 0));
    CHECK(series["p99_us"][i].get<uint64_t>() >=
          series["p50_us"][i].get<uint64_t>());
  }
  CHECK(total == 1000);
  // The unknown model is listed as an error but gets no series.
  CHECK(model_entry(stats, "nosuch").is_null());
  REQUIRE(stats["recent_errors"].size() == 1);
  auto& e = stats["recent_errors"][0];
  CHECK(e["seq"] == 1);
  CHECK(e["model"] == "nosuch");
  CHECK(e["code"] == "unknown_model");
  CHECK_FALSE(e["message"].get<std::string>().empty());
  CHECK(e["time_ms"].get<uint64_t>() > 1700000000000ull); // wall clock
  // Members and health: both workers, neither ejected, both measured.
  REQUIRE(stats["workers"].size() == 2);
  uint64_t items = 0;
  for (auto& w : stats["workers"]) {
    CHECK(w["ejected"] == false);
    CHECK(w["outstanding"] == 0);
    CHECK(w["latency_ewma_us"].get<uint64_t>() > 0);
    items += w["items"].get<uint64_t>();
  }
  CHECK(items == 1000);
  // The batch-size histogram counts every item once.
  REQUIRE(stats["batchers"].size() == 1);
  uint64_t hist_items = 0;
  for (auto& [size, n] : stats["batchers"][0]["batch_sizes"].items())
    hist_items += std::stoull(size) * n.get<uint64_t>();
  CHECK(hist_items == 1000);
}
