// Reconnect backoff (runtime/backoff.hpp).

#include <doctest/doctest.h>

#include "runtime/backoff.hpp"

using namespace dine;
using ms = std::chrono::milliseconds;

TEST_CASE("backoff doubles from 20 ms up to its cap and starts over") {
  backoff b{ms{100}};
  CHECK(b.next() == ms{20});
  CHECK(b.next() == ms{40});
  CHECK(b.next() == ms{80});
  CHECK(b.next() == ms{100});
  CHECK(b.next() == ms{100});
  b.reset();
  CHECK(b.next() == ms{20});
}

TEST_CASE("a cap below 20 ms applies from the second attempt on") {
  backoff b{ms{10}};
  CHECK(b.next() == ms{20});
  CHECK(b.next() == ms{10});
  CHECK(b.next() == ms{10});
}

TEST_CASE("a backoff with its own first delay doubles from there") {
  backoff b{ms{50}, ms{10}};
  CHECK(b.next() == ms{10});
  CHECK(b.next() == ms{20});
  CHECK(b.next() == ms{40});
  CHECK(b.next() == ms{50});
  b.reset();
  CHECK(b.next() == ms{10});
}
