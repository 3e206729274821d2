// runtime/outlier_detector.hpp: consecutive-failure ejection.

#include <doctest/doctest.h>

#include "runtime/outlier_detector.hpp"

using namespace dine;
using namespace std::chrono_literals;

namespace {

using time_point = outlier_detector::time_point;

const time_point t0 = time_point{} + 1000s;

outlier_detector make_pool(size_t n, outlier_config cfg = {}) {
  outlier_detector d{cfg};
  for (uint64_t i = 1; i <= n; ++i)
    d.add(i);
  return d;
}

/// Reports `n` failures of `id` at `now`; returns whether the last ejected.
bool fail(outlier_detector& d, uint64_t id, size_t n, time_point now) {
  bool ejected = false;
  for (size_t i = 0; i < n; ++i)
    ejected = d.on_failure(id, now);
  return ejected;
}

} // namespace

TEST_CASE("outlier_detector ejects after N consecutive failures") {
  auto d = make_pool(4);
  CHECK(d.config().consecutive_failures == 5);
  CHECK_FALSE(fail(d, 1, 4, t0));
  CHECK(d.consecutive_failures(1) == 4);
  CHECK(d.healthy(1, t0));
  CHECK(d.on_failure(1, t0));
  CHECK(d.is_ejected(1, t0));
  CHECK_FALSE(d.healthy(1, t0));
  CHECK(d.state(1, t0) == outlier_state::ejected);
  CHECK(*d.ejected_until(1) == t0 + 1s);
  CHECK(d.ejections(1) == 1);
  CHECK(d.ejected_count(t0) == 1);
  CHECK(*d.next_readmission(t0) == t0 + 1s);
  CHECK(d.healthy(2, t0));
}

TEST_CASE("outlier_detector: a success resets the consecutive count") {
  auto d = make_pool(4);
  fail(d, 1, 4, t0);
  d.on_success(1, t0);
  CHECK(d.consecutive_failures(1) == 0);
  CHECK_FALSE(fail(d, 1, 4, t0));
  CHECK(d.healthy(1, t0));
  CHECK(d.on_failure(1, t0));
}

TEST_CASE("outlier_detector probes after the ejection and readmits") {
  auto d = make_pool(4);
  fail(d, 1, 5, t0);
  CHECK(d.is_ejected(1, t0 + 999ms));
  // Reports while ejected are late replies: ignored.
  d.on_success(1, t0 + 500ms);
  CHECK(d.is_ejected(1, t0 + 500ms));
  CHECK_FALSE(d.on_failure(1, t0 + 500ms));
  // Ejection time passed: probing, gets traffic again.
  CHECK(d.state(1, t0 + 1s) == outlier_state::probing);
  CHECK(d.healthy(1, t0 + 1s));
  CHECK_FALSE(d.next_readmission(t0 + 1s).has_value());
  d.on_success(1, t0 + 1s);
  CHECK(d.state(1, t0 + 1s) == outlier_state::active);
  CHECK(d.consecutive_failures(1) == 0);
  CHECK_FALSE(d.ejected_until(1).has_value());
  // Readmitted: it takes N failures again to eject it.
  CHECK_FALSE(fail(d, 1, 4, t0 + 2s));
  CHECK(d.on_failure(1, t0 + 2s));
  CHECK(*d.ejected_until(1) == t0 + 2s + 2s); // second ejection: 2x
}

TEST_CASE("outlier_detector doubles the ejection time up to the cap") {
  auto d = make_pool(4);
  auto now = t0;
  fail(d, 1, 5, now);
  std::vector<outlier_detector::duration> times;
  for (int i = 0; i < 8; ++i) {
    times.push_back(*d.ejected_until(1) - now);
    now = *d.ejected_until(1);
    CHECK(d.state(1, now) == outlier_state::probing);
    // One failure while probing ejects again at once.
    CHECK(d.on_failure(1, now));
  }
  using std::chrono::seconds;
  std::vector<outlier_detector::duration> expected{1s,  2s,  4s,  8s,
                                                   16s, 30s, 30s, 30s};
  CHECK(times == expected);
}

TEST_CASE("outlier_detector forgives past ejections after a healthy "
          "period") {
  auto d = make_pool(4);
  fail(d, 1, 5, t0);
  CHECK(d.on_failure(1, t0 + 1s)); // probing failure: 2s
  d.on_success(1, t0 + 3s);        // readmitted, 2 ejections count
  CHECK(d.ejections(1) == 2);
  d.on_success(1, t0 + 3s + 30s); // one decay interval in service
  CHECK(d.ejections(1) == 1);
  auto now = t0 + 3s + 30s;
  fail(d, 1, 5, now);
  CHECK(*d.ejected_until(1) == now + 2s);
  // With decay off, ejections count forever.
  outlier_config cfg;
  cfg.decay_interval = 0s;
  auto d2 = make_pool(4, cfg);
  fail(d2, 1, 5, t0);
  d2.on_success(1, t0 + 1s);
  d2.on_success(1, t0 + 1000s);
  fail(d2, 1, 5, t0 + 1000s);
  CHECK(*d2.ejected_until(1) == t0 + 1000s + 2s);
}

TEST_CASE("outlier_detector never ejects the last healthy worker") {
  outlier_config cfg;
  cfg.max_ejection_percent = 100;
  auto d = make_pool(1, cfg);
  CHECK_FALSE(fail(d, 1, 20, t0));
  CHECK(d.healthy(1, t0));
  auto d3 = make_pool(3, cfg);
  CHECK(fail(d3, 1, 5, t0));
  CHECK(fail(d3, 2, 5, t0));
  CHECK_FALSE(fail(d3, 3, 10, t0)); // the last one in service stays
  CHECK(d3.healthy(3, t0));
  CHECK(d3.ejected_count(t0) == 2);
  // Once another worker probes again, the refused one can go.
  CHECK(d3.state(1, t0 + 1s) == outlier_state::probing);
  CHECK(d3.on_failure(3, t0 + 1s));
  CHECK(d3.is_ejected(3, t0 + 1s));
}

TEST_CASE("outlier_detector ejects at most max_ejection_percent") {
  // 50% of 2: one may go.
  auto d2 = make_pool(2);
  CHECK(fail(d2, 1, 5, t0));
  CHECK_FALSE(fail(d2, 2, 5, t0));
  // 50% of 5 rounds down to 2.
  auto d5 = make_pool(5);
  CHECK(fail(d5, 1, 5, t0));
  CHECK(fail(d5, 2, 5, t0));
  CHECK_FALSE(fail(d5, 3, 5, t0));
  CHECK(d5.ejected_count(t0) == 2);
  // A refused ejection is retried on the next failure once room is made.
  d5.remove(1, t0);
  CHECK(d5.ejected_count(t0) == 1);
  // 4 workers now: 2 may be ejected.
  CHECK(d5.on_failure(3, t0));
  // 0%: nobody is ever ejected.
  outlier_config cfg;
  cfg.max_ejection_percent = 0;
  auto d0 = make_pool(4, cfg);
  CHECK_FALSE(fail(d0, 1, 50, t0));
}

TEST_CASE("outlier_detector: when the workers in service leave, an ejected "
          "one is probed at once") {
  outlier_config cfg;
  cfg.max_ejection_percent = 100; // only the last in service is protected
  auto d = make_pool(3, cfg);
  CHECK(fail(d, 1, 5, t0));       // 1 ejected for 1 s
  CHECK(fail(d, 2, 5, t0 + 1ms)); // 2 ejected, a little later
  CHECK(d.ejected_count(t0 + 2ms) == 2);
  // Worker 3, the only one in service, leaves (killed, drained, silent).
  CHECK(d.remove(3, t0 + 2ms));
  // The pool is not left to wait out both ejections: the one that ends
  // first is probed now, the other stays ejected.
  CHECK(d.state(1, t0 + 2ms) == outlier_state::probing);
  CHECK(d.state(2, t0 + 2ms) == outlier_state::ejected);
  d.on_success(1, t0 + 3ms);
  CHECK(d.state(1, t0 + 3ms) == outlier_state::active);
  // While a worker is in service, a departure changes nothing.
  auto e = make_pool(3);
  CHECK(fail(e, 1, 5, t0));
  CHECK(e.remove(2, t0));
  CHECK(e.state(1, t0) == outlier_state::ejected);
}

TEST_CASE("outlier_detector membership") {
  outlier_detector d;
  CHECK(d.add(7));
  CHECK_FALSE(d.add(7));
  CHECK(d.contains(7));
  CHECK(d.size() == 1);
  // Unknown workers: no evidence against them.
  CHECK(d.healthy(99, t0));
  CHECK_FALSE(d.on_failure(99, t0));
  d.on_success(99, t0);
  CHECK_FALSE(d.contains(99));
  CHECK(d.remove(7, t0));
  CHECK_FALSE(d.remove(7, t0));
}

TEST_CASE("outlier_detector checks its config") {
  CHECK(outlier_detector::make({}));
  outlier_config cfg;
  cfg.consecutive_failures = 0;
  CHECK_FALSE(outlier_detector::make(cfg));
  cfg = outlier_config{};
  cfg.max_ejection_time = 500ms;
  CHECK_FALSE(outlier_detector::make(cfg));
  cfg = outlier_config{};
  cfg.max_ejection_percent = 101;
  CHECK_FALSE(outlier_detector::make(cfg));
  cfg = outlier_config{};
  cfg.base_ejection_time = 0s;
  CHECK_FALSE(outlier_detector::make(cfg));
  CHECK(std::string{to_string(outlier_state::probing)} == "probing");
}

TEST_CASE("worse: merged stats show ejected over probing over active") {
  using s = outlier_state;
  CHECK(worse(s::active, s::active) == s::active);
  CHECK(worse(s::active, s::probing) == s::probing);
  CHECK(worse(s::probing, s::active) == s::probing);
  CHECK(worse(s::probing, s::ejected) == s::ejected);
  CHECK(worse(s::ejected, s::active) == s::ejected);
  CHECK(worse(s::ejected, s::probing) == s::ejected);
}

TEST_CASE("outlier_detector any_out: set while a worker is ejected or "
          "probing, clear once none is") {
  auto d = make_pool(4);
  CHECK_FALSE(d.any_out());
  fail(d, 1, 5, t0);
  CHECK(d.any_out());
  // Ejected again while probing: still counted once.
  CHECK(d.state(1, t0 + 1s) == outlier_state::probing);
  CHECK(d.on_failure(1, t0 + 1s));
  fail(d, 2, 5, t0 + 1s);
  CHECK(d.any_out());
  // Readmitted after probing: no longer out.
  d.on_success(1, *d.ejected_until(1));
  CHECK(d.state(1, t0 + 10s) == outlier_state::active);
  CHECK(d.any_out()); // worker 2 still is
  // An out worker that leaves the pool no longer counts.
  CHECK(d.remove(2, t0 + 1s));
  CHECK_FALSE(d.any_out());
  fail(d, 3, 5, t0 + 20s);
  CHECK(d.any_out());
}
