// When the node gives freed heap back after a burst (runtime/heap_trim.hpp),
// on injected RSS samples.

#include <doctest/doctest.h>

#include <cstdlib>
#include <vector>

#include "runtime/heap_trim.hpp"

using namespace dine;

namespace {

constexpr uint64_t mib = 1u << 20;

} // namespace

TEST_CASE("heap trim: after a burst, once RSS stopped growing") {
  trim_policy p{64 * mib, 2};
  CHECK_FALSE(p.sample(20 * mib)); // start: the baseline
  CHECK(p.floor() == 20 * mib);
  CHECK_FALSE(p.sample(200 * mib)); // a flood: growing
  CHECK_FALSE(p.sample(400 * mib));
  CHECK_FALSE(p.sample(390 * mib)); // one quiet sample
  CHECK(p.sample(395 * mib));       // two: the burst is over
  p.trimmed(150 * mib);
  CHECK(p.floor() == 150 * mib);
  // High but not growing: trimmed once, not on every sample.
  for (int i = 0; i < 10; ++i)
    CHECK_FALSE(p.sample(150 * mib));
  // Growth below the threshold is no burst.
  CHECK_FALSE(p.sample(200 * mib));
  CHECK_FALSE(p.sample(200 * mib));
  CHECK_FALSE(p.sample(200 * mib));
  // The next burst is trimmed again.
  CHECK_FALSE(p.sample(300 * mib));
  CHECK_FALSE(p.sample(300 * mib));
  CHECK(p.sample(299 * mib));
}

TEST_CASE("heap trim: steady growth never counts as quiet") {
  trim_policy p{64 * mib, 3};
  uint64_t rss = 10 * mib;
  for (int i = 0; i < 50; ++i)
    CHECK_FALSE(p.sample(rss += 10 * mib));
  CHECK_FALSE(p.sample(rss));
  CHECK_FALSE(p.sample(rss));
  CHECK(p.sample(rss));
}

TEST_CASE("heap trim: the RSS is read and the arenas can be capped") {
  auto rss = current_rss();
  CHECK(rss > 0);
  CHECK(limit_arenas(0));
  CHECK(limit_arenas(8));
}
