// session_restarts: a worker's restart delays and give-up per model.

#include <doctest/doctest.h>

#include "runtime/session_restarts.hpp"

using namespace dine;
using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

namespace {

auto t0 = session_restarts::time_point{} + 100s;

} // namespace

TEST_CASE("restart delays double within a window, more crashes give up") {
  session_restarts r{5, 10s, ms{10}};
  CHECK(r.max_restarts() == 5);
  CHECK(r.window() == 10s);
  CHECK(r.on_crash(t0) == ms{10});
  CHECK(r.on_crash(t0 + 1s) == ms{20});
  CHECK(r.on_crash(t0 + 2s) == ms{40});
  CHECK(r.on_crash(t0 + 3s) == ms{80});
  CHECK(r.on_crash(t0 + 4s) == ms{160});
  // The sixth crash within 10 s: give up.
  CHECK_FALSE(r.on_crash(t0 + 5s).has_value());
}

TEST_CASE("a crash after the window passed starts at the first delay") {
  session_restarts r{5, 10s, ms{10}};
  CHECK(r.on_crash(t0) == ms{10});
  CHECK(r.on_crash(t0 + 1s) == ms{20});
  // Both earlier restarts are out of the window.
  CHECK(r.on_crash(t0 + 12s) == ms{10});
  CHECK(r.on_crash(t0 + 13s) == ms{20});
}

TEST_CASE("reset revives a model given up on with a fresh window") {
  session_restarts r{1, 10s, ms{10}};
  CHECK(r.on_crash(t0) == ms{10});
  CHECK_FALSE(r.on_crash(t0 + 1s).has_value());
  r.reset();
  CHECK(r.on_crash(t0 + 2s) == ms{10});
  CHECK_FALSE(r.on_crash(t0 + 3s).has_value());
}

TEST_CASE("zero restarts allowed gives up at the first crash") {
  session_restarts r{0, 10s, ms{10}};
  CHECK_FALSE(r.on_crash(t0).has_value());
}
