// latency_window: per-model throughput and percentiles over recent buckets;
// error_ring: the latest errors, bounded.

#include <doctest/doctest.h>

#include "runtime/error_ring.hpp"
#include "runtime/latency_window.hpp"

using namespace dine;
using namespace std::chrono_literals;

namespace {

using clk = latency_window::clock;

/// A fixed start for the injected clock: bucket 1000 of 1 s.
const clk::time_point t0{std::chrono::seconds{1000}};

const latency_window::model_view*
find(const std::vector<latency_window::model_view>& vs, const std::string& m) {
  for (auto& v : vs)
    if (v.model == m)
      return &v;
  return nullptr;
}

} // namespace

TEST_CASE("histogram bins are monotonic and within 1/8 of the value") {
  size_t last = 0;
  for (uint64_t us : {0ull, 1ull, 7ull, 8ull, 15ull, 16ull, 100ull, 1000ull,
                      12345ull, 1000000ull, 60000000ull}) {
    auto b = latency_window::bin_of(us);
    CHECK(b >= last);
    last = b;
    auto v = latency_window::value_of(b);
    CHECK(v * 8 >= us * 7);
    CHECK(v * 8 <= us * 9 + 8);
  }
  CHECK(latency_window::bin_of(~uint64_t{0}) == latency_window::bins - 1);
}

TEST_CASE("a view shows complete buckets, oldest first, and a summary") {
  latency_window w{1000ms, 10, 4};
  // Bucket t0: 100 replies of 1..100 ms; t0+1s: 10 replies of 5 ms, 2 errors.
  for (uint64_t i = 1; i <= 100; ++i)
    w.record("echo", i * 1000, true, t0 + 10ms);
  for (int i = 0; i < 10; ++i)
    w.record("echo", 5000, i >= 2, t0 + 1500ms);
  // The current bucket (t0+2s) is partial: left out of the view.
  w.record("echo", 900000, true, t0 + 2100ms);
  auto vs = w.view(t0 + 2200ms);
  REQUIRE(vs.size() == 1);
  auto& v = vs[0];
  CHECK(v.model == "echo");
  CHECK(v.ok == 109);
  CHECK(v.errors == 2);
  REQUIRE(v.count.size() == w.series_length());
  CHECK(v.count.size() == 9);
  CHECK(v.count[8] == 10); // newest complete bucket last
  CHECK(v.count[7] == 100);
  CHECK(v.count[6] == 0);
  CHECK(v.error_count[8] == 2);
  CHECK(v.error_count[7] == 0);
  // p50 of 1..100 ms is about 50 ms, p99 about 99 ms (bins: 1/8).
  CHECK(v.p50[7] >= 45000);
  CHECK(v.p50[7] <= 56000);
  CHECK(v.p99[7] >= 90000);
  CHECK(v.p99[7] <= 110000);
  CHECK(v.p50[8] >= 4500);
  CHECK(v.p50[8] <= 5500);
  // Summary over the last 4 complete buckets: 110 replies in 4 s.
  CHECK(v.rps == doctest::Approx(110.0 / 4));
  CHECK(v.p50_us >= 40000);
  CHECK(v.p50_us <= 56000);
  CHECK(v.p99_us >= 90000);
}

TEST_CASE("buckets older than the window are forgotten") {
  latency_window w{1000ms, 5, 2};
  w.record("m", 1000, true, t0);
  auto vs = w.view(t0 + 1s);
  CHECK(vs[0].count.back() == 1);
  vs = w.view(t0 + 5s);
  CHECK(vs[0].count.front() == 0); // t0 + 1s .. t0 + 4s: nothing
  for (auto c : vs[0].count)
    CHECK(c == 0);
  CHECK(vs[0].rps == 0);
  CHECK(vs[0].p99_us == 0);
  CHECK(vs[0].ok == 1); // the totals stay
  // The slot t0 used is reused by t0 + 5s: the old counts do not leak in.
  w.record("m", 2000, true, t0 + 5s);
  vs = w.view(t0 + 6s);
  CHECK(vs[0].count.back() == 1);
  CHECK(vs[0].count[vs[0].count.size() - 2] == 0);
}

TEST_CASE("models beyond the bound count under (other)") {
  latency_window w{1000ms, 4, 2, 3};
  for (auto m : {"a", "b", "c", "d", "e"})
    w.record(m, 10, true, t0);
  w.record("a", 10, true, t0);
  auto vs = w.view(t0 + 1s);
  CHECK(vs.size() == 3);
  REQUIRE(find(vs, "a") != nullptr);
  CHECK(find(vs, "a")->ok == 2);
  CHECK(find(vs, "b") != nullptr);
  REQUIRE(find(vs, latency_window::other_model) != nullptr);
  CHECK(find(vs, latency_window::other_model)->ok == 3);
  CHECK(find(vs, "d") == nullptr);
}

TEST_CASE("the error ring keeps the latest, numbered, cut to size") {
  error_ring r{3};
  for (int i = 1; i <= 5; ++i)
    r.add(1000 + i, "echo", "overloaded", "msg " + std::to_string(i));
  auto es = r.recent();
  REQUIRE(es.size() == 3);
  CHECK(es[0].seq == 3);
  CHECK(es[2].seq == 5);
  CHECK(es[2].message == "msg 5");
  CHECK(es[2].time_ms == 1005);
  CHECK(r.total() == 5);
  r.add(2000, std::string(1000, 'm'), "invalid_input", std::string(5000, 'x'));
  es = r.recent();
  CHECK(es.back().model.size() <= error_ring::max_model + 3);
  CHECK(es.back().message.size() <= error_ring::max_message + 3);
  CHECK(es.back().code == "invalid_input");
  // A cut never splits a UTF-8 sequence.
  std::string u;
  for (int i = 0; i < 150; ++i)
    u += "\xc3\xa9"; // é
  r.add(3000, "m", "internal", u);
  auto msg = r.recent().back().message;
  CHECK(msg.size() % 2 == 1); // whole é's plus "..."
  CHECK(msg.substr(msg.size() - 3) == "...");
}
