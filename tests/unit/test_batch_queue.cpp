// batch_queue: every batching decision, driven by a fake clock.

#include <doctest/doctest.h>

#include "runtime/batch_queue.hpp"

using namespace dine;
using namespace std::chrono_literals;

namespace {

using tp = batch_queue::time_point;

const tp t0 = tp{} + 1h;

batch_queue::entry make(uint64_t rid, tp at, int32_t prio = 0,
                        std::chrono::milliseconds ttl = 10s) {
  batch_queue::entry e;
  e.req.id = rid;
  e.req.priority = prio;
  e.enqueued = at;
  e.deadline = at + ttl;
  return e;
}

void push_n(batch_queue& q, size_t n, tp at, uint64_t first = 1) {
  for (size_t i = 0; i < n; ++i) {
    auto e = make(first + i, at);
    REQUIRE(q.push(e));
  }
}

std::vector<uint64_t> ids(const std::vector<batch_queue::entry>& es) {
  std::vector<uint64_t> out;
  for (auto& e : es)
    out.push_back(e.req.id);
  return out;
}

} // namespace

TEST_CASE("batch_queue flushes at max_batch_size and never above it") {
  batch_limits l;
  l.max_batch_size = 4;
  l.max_delay = 1000us;
  batch_queue q{l};
  push_n(q, 3, t0);
  CHECK(q.ready(t0, true) == 0);
  push_n(q, 7, t0, 4);
  CHECK(q.ready(t0, true) == 4);
  CHECK(ids(q.take(4)) == std::vector<uint64_t>{1, 2, 3, 4});
  CHECK(q.ready(t0, true) == 4);
  CHECK(q.size() == 6);
}

TEST_CASE("batch_queue flushes once the oldest waited max_delay") {
  batch_limits l;
  l.max_batch_size = 8;
  l.max_delay = 2000us;
  batch_queue q{l};
  push_n(q, 3, t0);
  CHECK(q.ready(t0 + 1999us, true) == 0);
  CHECK(q.next_wakeup() == t0 + 2000us);
  CHECK(q.ready(t0 + 2000us, true) == 3);
}

TEST_CASE("batch_queue waits while no worker slot is free") {
  batch_limits l;
  l.max_batch_size = 2;
  batch_queue q{l};
  push_n(q, 5, t0);
  CHECK(q.ready(t0 + 1s, false) == 0);
  CHECK(q.ready(t0 + 1s, true) == 2);
}

TEST_CASE("batch_queue forms preferred sizes without waiting") {
  batch_limits l;
  l.max_batch_size = 16;
  l.max_delay = 1s;
  l.preferred_sizes = {4, 8, 32}; // 32 > max: ignored
  batch_queue q{l};
  push_n(q, 3, t0);
  CHECK(q.ready(t0, true) == 0);
  push_n(q, 2, t0, 4);
  CHECK(q.ready(t0, true) == 4); // largest preferred size that fits
  push_n(q, 5, t0, 6);
  CHECK(q.ready(t0, true) == 8);
}

TEST_CASE("batch_queue: a batch never waits past the earliest deadline") {
  batch_limits l;
  l.max_batch_size = 8;
  l.max_delay = 1s;
  batch_queue q{l};
  auto e1 = make(1, t0, 0, 10s);
  auto e2 = make(2, t0, 0, 5ms);
  REQUIRE(q.push(e1));
  REQUIRE(q.push(e2));
  CHECK(q.next_wakeup() == t0 + 5ms);
  CHECK(q.ready(t0 + 4ms, true) == 0);
  CHECK(q.ready(t0 + 5ms, true) == 2);
}

TEST_CASE("batch_queue expires requests whose deadline passed") {
  batch_limits l;
  batch_queue q{l};
  auto a = make(1, t0, 0, 10ms);
  auto b = make(2, t0, 5, 50ms);
  auto c = make(3, t0, 0, 30ms);
  REQUIRE(q.push(a));
  REQUIRE(q.push(b));
  REQUIRE(q.push(c));
  CHECK(q.expire(t0 + 9ms).empty());
  CHECK(ids(q.expire(t0 + 30ms)) == std::vector<uint64_t>{1, 3});
  CHECK(q.size() == 1);
  CHECK(ids(q.take(5)) == std::vector<uint64_t>{2});
}

TEST_CASE("batch_queue takes higher priorities first, FIFO within one") {
  batch_limits l;
  l.max_batch_size = 4;
  batch_queue q{l};
  int32_t prios[] = {0, 0, 9, -1, 9, 3};
  for (uint64_t i = 0; i < 6; ++i) {
    auto e = make(i + 1, t0, prios[i]);
    REQUIRE(q.push(e));
  }
  CHECK(ids(q.take(4)) == std::vector<uint64_t>{3, 5, 6, 1});
  CHECK(ids(q.take(4)) == std::vector<uint64_t>{2, 4});
  CHECK(q.empty());
}

TEST_CASE("batch_queue is bounded: a full queue refuses") {
  batch_limits l;
  l.max_queue = 3;
  batch_queue q{l};
  push_n(q, 3, t0);
  auto e = make(4, t0);
  CHECK_FALSE(q.push(e));
  CHECK(e.req.id == 4); // untouched, so the caller can answer it
  CHECK(q.size() == 3);
}

TEST_CASE("batch_queue: not batchable means batches of one") {
  batch_limits l;
  l.max_batch_size = 32;
  l.batchable = false;
  batch_queue q{l};
  push_n(q, 5, t0);
  CHECK(q.ready(t0, true) == 1);
  CHECK(q.take(q.ready(t0, true)).size() == 1);
}

TEST_CASE("batch_queue: retried requests go back in front") {
  batch_limits l;
  l.max_batch_size = 8;
  batch_queue q{l};
  push_n(q, 2, t0, 10);
  std::vector<batch_queue::entry> failed;
  failed.push_back(make(1, t0));
  failed.push_back(make(2, t0));
  q.push_front(std::move(failed));
  CHECK(ids(q.take(8)) == std::vector<uint64_t>{1, 2, 10, 11});
  push_n(q, 3, t0);
  CHECK(q.drain().size() == 3);
  CHECK(q.empty());
  CHECK(q.next_wakeup() == batch_queue::time_point::max());
}
