// retry_budget: retries stay within a share of the traffic.

#include <doctest/doctest.h>

#include "runtime/retry_budget.hpp"

using namespace dine;

TEST_CASE("the floor allows a few retries with no traffic at all") {
  retry_budget b{0.2, 3};
  CHECK(b.try_withdraw());
  CHECK(b.try_withdraw());
  CHECK(b.try_withdraw());
  CHECK_FALSE(b.try_withdraw());
  b.refill();
  CHECK(b.try_withdraw());
}

TEST_CASE("retries stay within 20 percent of first attempts") {
  retry_budget b{0.2, 3};
  int retries = 0;
  for (int i = 0; i < 1000; ++i) {
    b.deposit();
    // Every request fails and wants a retry: only some get one.
    if (b.try_withdraw())
      ++retries;
  }
  CHECK(retries >= 200);
  CHECK(retries <= 203);
}

TEST_CASE("tokens are capped") {
  retry_budget b{1.0, 0, 10};
  b.deposit(100);
  CHECK(b.tokens() == doctest::Approx(10));
}
