// inflight_table: exactly one final reply per request, streams of chunks
// before it, late replies dropped and counted.

#include <doctest/doctest.h>

#include <algorithm>

#include "runtime/inflight_table.hpp"

using namespace dine;
using namespace std::chrono_literals;

namespace {

using table = inflight_table<int>; // connections are plain ints here
using clock = table::clock;

const auto t0 = clock::time_point{} + 1h; // an injected clock

table::entry make(int conn, uint64_t client_id, clock::duration timeout,
                  bool stream = false) {
  table::entry e;
  e.conn = conn;
  e.client_id = client_id;
  e.accepted = t0;
  e.deadline = t0 + timeout;
  e.stream = stream;
  return e;
}

} // namespace

TEST_CASE("a request gets exactly one final reply, later ones count late") {
  table t;
  t.add(1, make(7, 100, 1s));
  REQUIRE(t.find(1) != nullptr);
  auto e = t.finish(1);
  REQUIRE(e.has_value());
  CHECK(e->client_id == 100);
  CHECK(e->conn == 7);
  CHECK(t.size() == 0);
  CHECK_FALSE(t.finish(1).has_value());
  CHECK(t.late() == 1);
  CHECK(t.find(1) == nullptr);
}

TEST_CASE("a stream delivers chunks, then one final reply, then nothing") {
  table t;
  t.add(5, make(1, 9, 1s, true));
  auto c1 = t.chunk(5, 2, t0 + 10ms);
  REQUIRE(c1 != nullptr);
  CHECK(c1->client_id == 9);
  REQUIRE(t.chunk(5, 3, t0 + 30ms) != nullptr);
  auto e = t.find(5);
  CHECK(e->chunks == 2);
  CHECK(e->tokens == 5);
  CHECK(e->first_chunk == t0 + 10ms);
  REQUIRE(t.finish(5).has_value());
  CHECK(t.chunk(5, 1, t0 + 40ms) == nullptr); // after the final: dropped
  CHECK_FALSE(t.finish(5).has_value());
  CHECK(t.late() == 2);
}

TEST_CASE("chunks for a request that is not a stream are dropped") {
  table t;
  t.add(2, make(1, 1, 1s));
  CHECK(t.chunk(2, 1, t0) == nullptr);
  CHECK(t.late() == 1);
  CHECK(t.finish(2).has_value()); // its final reply still goes out
}

TEST_CASE("expire takes out exactly the entries whose deadline passed") {
  table t;
  t.add(1, make(1, 11, 10ms));
  t.add(2, make(1, 12, 20ms, true));
  t.add(3, make(2, 13, 30ms));
  std::vector<uint64_t> out;
  t.expire(t0 + 20ms, [&](uint64_t rid, table::entry&& e) {
    out.push_back(rid);
    CHECK(e.client_id == rid + 10);
  });
  std::sort(out.begin(), out.end());
  CHECK(out == std::vector<uint64_t>{1, 2});
  CHECK(t.size() == 1);
  CHECK(t.find_stream(1, 12) == 0); // the expired stream is gone too
  CHECK_FALSE(t.finish(2).has_value());
  CHECK(t.finish(3).has_value());
}

TEST_CASE("streams are found by connection and client id") {
  table t;
  t.add(1, make(1, 5, 1s, true));
  t.add(2, make(2, 5, 1s, true));
  t.add(3, make(1, 6, 1s, false));
  t.add(4, make(1, 7, 1s, true));
  CHECK(t.find_stream(1, 5) == 1);
  CHECK(t.find_stream(2, 5) == 2);
  CHECK(t.find_stream(1, 6) == 0); // not a stream
  CHECK(t.find_stream(3, 5) == 0);
  auto of1 = t.streams_of(1);
  std::sort(of1.begin(), of1.end());
  CHECK(of1 == std::vector<uint64_t>{1, 4});
  t.finish(4);
  CHECK(t.streams_of(1) == std::vector<uint64_t>{1});
}
