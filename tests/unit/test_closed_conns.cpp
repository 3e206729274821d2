// The coordinator's set of closed connections (runtime/closed_conns.hpp).

#include <doctest/doctest.h>

#include "runtime/closed_conns.hpp"

using namespace dine;

TEST_CASE("closed connections are remembered until their ttl, and bounded") {
  using clock = closed_conns::clock;
  closed_conns cs{std::chrono::seconds{60}, 3};
  auto t0 = clock::now();
  CHECK(cs.empty());
  cs.add(7, t0);
  cs.add(7, t0); // once
  CHECK(cs.contains(7));
  CHECK_FALSE(cs.contains(8));
  CHECK(cs.size() == 1);
  cs.add(8, t0 + std::chrono::seconds{10});
  cs.expire(t0 + std::chrono::seconds{59});
  CHECK(cs.contains(7));
  cs.expire(t0 + std::chrono::seconds{60});
  CHECK_FALSE(cs.contains(7)); // a batch queued longer runs as before
  CHECK(cs.contains(8));
  // Above max_entries the oldest go first.
  cs.add(1, t0 + std::chrono::seconds{20});
  cs.add(2, t0 + std::chrono::seconds{21});
  cs.add(3, t0 + std::chrono::seconds{22});
  CHECK(cs.size() == 3);
  CHECK_FALSE(cs.contains(8));
  CHECK(cs.contains(1));
  CHECK(cs.contains(3));
}
