// step_pool: every index of a loop runs exactly once, on the caller and
// the helpers, for many loops in a row.

#include <doctest/doctest.h>

#include <atomic>
#include <vector>

#include "runtime/backends/step_pool.hpp"

using namespace dine;

TEST_CASE("step_pool runs every index once across its threads") {
  for (int32_t threads : {1, 2, 3}) {
    step_pool pool{threads};
    CHECK(pool.size() == threads);
    for (int round = 0; round < 200; ++round) {
      int32_t n = round % 7;
      std::vector<std::atomic<int>> hits(size_t(n) + 1);
      std::atomic<int> bad_tid{0};
      pool.run(n, [&](int32_t i, int32_t tid) {
        if (tid < 0 || tid >= threads)
          ++bad_tid;
        ++hits[size_t(i)];
      });
      for (int32_t i = 0; i < n; ++i)
        REQUIRE(hits[size_t(i)] == 1);
      REQUIRE(hits[size_t(n)] == 0);
      REQUIRE(bad_tid == 0);
    }
  }
}
