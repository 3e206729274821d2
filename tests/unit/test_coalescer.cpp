// coalescer: identical in-flight requests run once.

#include <doctest/doctest.h>

#include "runtime/coalescer.hpp"

using namespace dine;

TEST_CASE("the first request leads, identical ones follow") {
  coalescer c;
  CHECK(c.join("k", 1));
  CHECK_FALSE(c.join("k", 2));
  CHECK_FALSE(c.join("k", 3));
  CHECK(c.join("other", 4));
  CHECK(c.keys() == 2);
  CHECK(c.coalesced() == 2);
  CHECK(c.complete("k", 2).empty()); // not the leader
  CHECK(c.complete("k", 1) == std::vector<uint64_t>{2, 3});
  CHECK(c.keys() == 1);
  CHECK(c.join("k", 5)); // a new round
}

TEST_CASE("a failed leader hands over to the oldest follower") {
  coalescer c;
  c.join("k", 1);
  c.join("k", 2);
  c.join("k", 3);
  CHECK(c.promote("k", 1) == 2);
  CHECK(c.complete("k", 2) == std::vector<uint64_t>{3});
  c.join("j", 7);
  CHECK(c.promote("j", 7) == 0);
  CHECK(c.keys() == 0);
}

TEST_CASE("a follower whose deadline passed leaves") {
  coalescer c;
  c.join("k", 1);
  c.join("k", 2);
  c.join("k", 3);
  c.leave("k", 2);
  CHECK(c.complete("k", 1) == std::vector<uint64_t>{3});
  c.leave("gone", 9); // harmless
}
