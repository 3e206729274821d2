// fault_hook: rate and count of injected faults.

#include <doctest/doctest.h>

#include "runtime/fault_hook.hpp"

using namespace dine;

TEST_CASE("fault_hook fires every batch at rate 1, up to count") {
  fault_hook h;
  CHECK(h.next() == fault_kind::off); // off by default
  fault_spec s;
  s.kind = fault_kind::error;
  s.count = 3;
  h.set(s);
  CHECK(h.next() == fault_kind::error);
  CHECK(h.next() == fault_kind::error);
  CHECK(h.next() == fault_kind::error);
  CHECK(h.next() == fault_kind::off);
  CHECK(h.fired() == 3);
  h.set(s); // re-arming resets the count
  CHECK(h.next() == fault_kind::error);
}

TEST_CASE("fault_hook fires about `rate` of the batches") {
  fault_hook h{42};
  fault_spec s;
  s.kind = fault_kind::slow;
  s.rate = 0.25;
  h.set(s);
  int fired = 0;
  for (int i = 0; i < 20000; ++i)
    fired += h.next() == fault_kind::slow ? 1 : 0;
  CHECK(fired > 4500);
  CHECK(fired < 5500);
}

TEST_CASE("crash_on_start never fires per batch, names parse") {
  fault_hook h;
  fault_spec s;
  s.kind = fault_kind::crash_on_start;
  h.set(s);
  CHECK(h.next() == fault_kind::off);
  fault_kind k;
  for (auto name :
       {"off", "crash", "crash_on_start", "hang", "error", "slow"}) {
    REQUIRE(from_string(name, k));
    CHECK(std::string{to_string(k)} == name);
  }
  CHECK_FALSE(from_string("explode", k));
}
