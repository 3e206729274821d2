// runtime/key_batching.hpp: batches per target worker for key strategies.

#include <doctest/doctest.h>

#include <set>

#include "runtime/balance_hash.hpp"
#include "runtime/key_batching.hpp"

using namespace dine;

namespace {

std::vector<worker_view> pool_of(size_t n, uint32_t capacity) {
  std::vector<worker_view> pool(n);
  for (size_t i = 0; i < n; ++i) {
    pool[i].id = hash_key("w" + std::to_string(i));
    pool[i].capacity = capacity;
  }
  return pool;
}

std::vector<uint64_t> keys(size_t n) {
  std::vector<uint64_t> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back(hash_key("k" + std::to_string(i)));
  return out;
}

/// Worker of each request in `plan` (none for leftovers).
std::vector<size_t> targets(const key_batch_plan& plan, size_t n) {
  std::vector<size_t> out(n, balancer::none);
  for (auto& b : plan.batches)
    for (auto i : b.items)
      out[i] = b.worker;
  return out;
}

} // namespace

TEST_CASE("key batching: one batch per worker, the same key, the same worker "
          "whatever the load") {
  consistent_hash ch;
  auto pool = pool_of(3, 4);
  auto ks = keys(60);
  auto idle = plan_key_batches(ch, pool, ks, 64);
  CHECK(idle.leftover.empty());
  CHECK(idle.batches.size() == 3);
  auto where = targets(idle, ks.size());
  // Busy workers do not change where a key goes (affinity), only whether
  // it leaves now.
  pool[0].outstanding = 3;
  pool[1].outstanding = 1;
  auto busy = plan_key_batches(ch, pool, ks, 64);
  auto where2 = targets(busy, ks.size());
  for (size_t i = 0; i < ks.size(); ++i)
    if (where2[i] != balancer::none)
      CHECK(where2[i] == where[i]);
}

TEST_CASE("key batching: batches respect max size and free slots, the rest "
          "stays queued in order") {
  consistent_hash ch;
  auto pool = pool_of(1, 3);
  pool[0].outstanding = 1; // two free slots
  auto plan = plan_key_batches(ch, pool, keys(10), 4);
  REQUIRE(plan.batches.size() == 2);
  CHECK(plan.batches[0].items == std::vector<size_t>{0, 1, 2, 3});
  CHECK(plan.batches[1].items == std::vector<size_t>{4, 5, 6, 7});
  CHECK(plan.leftover == std::vector<size_t>{8, 9});
  pool[0].outstanding = 3; // full: everything waits
  auto full = plan_key_batches(ch, pool, keys(5), 4);
  CHECK(full.batches.empty());
  CHECK(full.leftover.size() == 5);
}

TEST_CASE("key batching: an unhealthy (down or ejected) worker's keys go to "
          "the next worker on the ring, the others stay") {
  consistent_hash ch;
  auto pool = pool_of(3, 8);
  auto ks = keys(90);
  auto before = targets(plan_key_batches(ch, pool, ks, 128), ks.size());
  pool[1].healthy = false;
  auto after = targets(plan_key_batches(ch, pool, ks, 128), ks.size());
  size_t moved = 0;
  for (size_t i = 0; i < ks.size(); ++i) {
    CHECK(after[i] != 1);
    if (before[i] == 1)
      ++moved;
    else
      CHECK(after[i] == before[i]);
  }
  CHECK(moved > 0);
}

TEST_CASE("key batching: modulo_hash works the same way") {
  modulo_hash mh;
  auto pool = pool_of(4, 2);
  auto ks = keys(40);
  auto plan = plan_key_batches(mh, pool, ks, 64);
  for (auto& b : plan.batches)
    for (auto i : b.items)
      CHECK(b.worker == ks[i] % 4);
}

TEST_CASE("key batching: a retry avoids the worker it failed on, unless it "
          "is the only healthy one") {
  consistent_hash ch;
  auto pool = pool_of(3, 8);
  auto ks = keys(60);
  auto home = targets(plan_key_batches(ch, pool, ks, 128), ks.size());
  // Every request failed on its home worker.
  std::vector<uint64_t> avoid;
  for (auto w : home)
    avoid.push_back(pool[w].id);
  auto retry = targets(plan_key_batches(ch, pool, ks, 128, avoid), ks.size());
  for (size_t i = 0; i < ks.size(); ++i) {
    CHECK(retry[i] != balancer::none);
    CHECK(retry[i] != home[i]);
  }
  // Requests without a failed worker keep their home.
  std::vector<uint64_t> none(ks.size(), 0);
  CHECK(targets(plan_key_batches(ch, pool, ks, 128, none), ks.size()) == home);
  // With one healthy worker left, a retry goes to it even if it failed.
  pool[0].healthy = false;
  pool[2].healthy = false;
  std::vector<uint64_t> on_one(ks.size(), pool[1].id);
  for (auto w : targets(plan_key_batches(ch, pool, ks, 128, on_one), ks.size()))
    CHECK(w == 1);
}
