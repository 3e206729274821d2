// Stage timings of a reply (runtime/stage_times.hpp).

#include <doctest/doctest.h>

#include "runtime/stage_times.hpp"
#include "runtime/wire.hpp"

using namespace dine;

namespace {

/// Sum of the stages that must add up to `total_us`.
uint64_t stage_sum(const timings& t) {
  return uint64_t{t.read_us} + t.preproc_us + t.cache_us + t.queue_us +
         t.network_us + t.infer_us + t.postproc_us + t.write_us;
}

constexpr int64_t base = 5'000'000'000; // an arbitrary steady-clock mark

} // namespace

TEST_CASE("stage times of a request that went to a worker") {
  stage_marks m;
  m.read = base;
  m.decoded = base + 2'400;      // 2.4 us
  m.cache_begin = base + 10'000; // hand-off to the coordinator
  m.cache_end = base + 40'000;   // cache: 30 us
  m.sent = base + 140'000;       // batcher queue: 100 us
  m.received = base + 1'140'000; // trip: 1000 us
  timings t;
  t.infer_us = 700;
  fill_stage_times(m, base + 1'200'999, t);
  CHECK(t.read_us == 2);
  CHECK(t.preproc_us == 0);
  CHECK(t.cache_us == 30);
  CHECK(t.queue_us == (10 - 2) + 100); // boundaries round, not stages
  CHECK(t.network_us == 300);
  CHECK(t.infer_us == 700);
  CHECK(t.postproc_us == 0);
  CHECK(t.write_us == 60);
  CHECK(t.total_us == 1200);
  CHECK(stage_sum(t) == t.total_us);
}

TEST_CASE("stages add up to the total exactly despite rounding") {
  // Boundaries with sub-microsecond parts: each stage rounded on its own
  // would lose up to 1 us per stage.
  stage_marks m;
  m.read = base + 999;
  m.decoded = base + 1'998;
  m.cache_begin = base + 2'997;
  m.cache_end = base + 3'996;
  m.sent = base + 4'995;
  m.received = base + 5'994;
  timings t;
  fill_stage_times(m, base + 6'993, t);
  CHECK(t.total_us == 5);
  CHECK(stage_sum(t) == t.total_us);
}

TEST_CASE("missing marks count as the previous one") {
  SUBCASE("no cache, no worker: an error answered by the coordinator") {
    stage_marks m;
    m.read = base;
    m.decoded = base + 1'000;
    timings t;
    t.infer_us = 50; // no trip: nothing to clamp it into
    fill_stage_times(m, base + 9'000, t);
    CHECK(t.read_us == 1);
    CHECK(t.cache_us == 0);
    CHECK(t.queue_us == 0);
    CHECK(t.network_us == 0);
    CHECK(t.infer_us == 0);
    CHECK(t.write_us == 8);
    CHECK(t.total_us == 9);
  }
  SUBCASE("a cache hit: no trip to a worker") {
    stage_marks m;
    m.read = base;
    m.decoded = base + 1'000;
    m.cache_begin = base + 3'000;
    m.cache_end = base + 7'000;
    timings t;
    fill_stage_times(m, base + 10'000, t);
    CHECK(t.queue_us == 2);
    CHECK(t.cache_us == 4);
    CHECK(t.network_us == 0);
    CHECK(t.write_us == 3);
    CHECK(t.total_us == 10);
    CHECK(stage_sum(t) == t.total_us);
  }
}

TEST_CASE("a follower's shared trip before its own read never goes "
          "negative") {
  // A coalesced follower was read after its leader's batch had left.
  stage_marks m;
  m.read = base + 500'000;
  m.decoded = base + 501'000;
  m.sent = base + 100'000;
  m.received = base + 900'000;
  timings t;
  t.infer_us = 600; // longer than the part of the trip the follower saw
  fill_stage_times(m, base + 950'000, t);
  CHECK(t.queue_us == 0);
  CHECK(t.network_us + t.infer_us == 399);
  CHECK(t.infer_us == 399);
  CHECK(t.write_us == 50);
  CHECK(t.total_us == 450);
  CHECK(stage_sum(t) == t.total_us);
}

TEST_CASE("no read mark: timings stay as they are") {
  stage_marks m;
  timings t;
  t.total_us = 42;
  fill_stage_times(m, base, t);
  CHECK(t.total_us == 42);
  CHECK(t.read_us == 0);
}

TEST_CASE("very long stages saturate instead of wrapping") {
  stage_marks m;
  m.read = 1;
  m.decoded = 2;
  timings t;
  fill_stage_times(m, int64_t{1} << 62, t);
  CHECK(t.total_us == UINT32_MAX);
  CHECK(t.write_us == UINT32_MAX);
}

TEST_CASE("a stream's last frame with the widest timings fits its frame") {
  // append_reply sizes the frame up front: every field at its widest.
  client_reply x;
  x.id = ~0ull;
  x.frame = reply_frame::last;
  x.code = 0;
  x.outputs = {0xc0};
  x.batch = UINT32_MAX;
  x.times = timings{UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX,
                    UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX,
                    UINT32_MAX, UINT32_MAX, UINT32_MAX};
  std::vector<char> buf;
  append_reply(buf, x);
  client_reply y;
  REQUIRE(decode_reply(buf.data() + 4, buf.size() - 4, y));
  CHECK(y.frame == reply_frame::last);
  CHECK(y.times.read_us == UINT32_MAX);
  CHECK(y.times.write_us == UINT32_MAX);
  CHECK(y.times.tpot_us == UINT32_MAX);
}

TEST_CASE("stage times of a request through preproc and postproc pools") {
  stage_marks m;
  m.read = base;
  m.decoded = base + 2'000;
  m.cache_begin = base + 10'000;
  m.cache_end = base + 40'000;   // cache: 30 us
  m.pre_end = base + 540'000;    // preproc pool: 500 us
  m.sent = base + 600'000;       // batcher queue: 60 us
  m.received = base + 1'600'000; // trip: 1000 us
  m.post_begin = base + 1'610'000;
  m.post_end = base + 1'910'000; // postproc pool: 300 us
  timings t;
  t.infer_us = 800;
  fill_stage_times(m, base + 1'950'000, t);
  CHECK(t.read_us == 2);
  CHECK(t.cache_us == 30);
  CHECK(t.preproc_us == 500);
  CHECK(t.queue_us == 8 + 60);
  CHECK(t.network_us == 200);
  CHECK(t.infer_us == 800);
  CHECK(t.postproc_us == 300);
  CHECK(t.write_us == 10 + 40);
  CHECK(t.total_us == 1950);
  CHECK(stage_sum(t) == t.total_us);
}
