// The balancing strategies of runtime/balance_*.hpp.

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "runtime/balance_hash.hpp"
#include "runtime/balance_latency.hpp"
#include "runtime/balance_load.hpp"
#include "runtime/balance_random.hpp"
#include "runtime/balance_weighted.hpp"
#include "runtime/balancer.hpp"
#include "runtime/ewma.hpp"

using namespace dine;
using namespace std::chrono_literals;

namespace {

/// A pool of `n` idle workers with ids 100, 101, ... and `capacity` slots.
std::vector<worker_view> idle_pool(size_t n, uint32_t capacity = 1000) {
  std::vector<worker_view> result;
  for (size_t i = 0; i < n; ++i)
    result.push_back({0, capacity, true, 100 + i, 0});
  return result;
}

/// A random pool: random load, capacity and health.
std::vector<worker_view> random_pool(std::mt19937_64& gen) {
  auto n = std::uniform_int_distribution<size_t>{1, 12}(gen);
  std::vector<worker_view> result;
  for (size_t i = 0; i < n; ++i) {
    worker_view w;
    w.capacity = std::uniform_int_distribution<uint32_t>{1, 8}(gen);
    w.outstanding = std::uniform_int_distribution<uint32_t>{0, 8}(gen);
    w.healthy = std::uniform_int_distribution<int>{0, 4}(gen) != 0;
    w.id = 100 + i;
    result.push_back(w);
  }
  return result;
}

std::unique_ptr<balancer> make(const std::string& name) {
  auto result = make_balancer(name);
  REQUIRE(result);
  return std::move(*result);
}

} // namespace

TEST_CASE("balancer_uses_key agrees with every strategy's uses_key") {
  size_t keyed = 0;
  for (auto& name : balancer_names()) {
    CAPTURE(name);
    auto b = make_balancer(name);
    REQUIRE(b);
    CHECK(balancer_uses_key(name) == (*b)->uses_key());
    keyed += (*b)->uses_key() ? 1 : 0;
  }
  CHECK(keyed == 2);
  CHECK_FALSE(balancer_uses_key("telepathy"));
}

TEST_CASE("make_balancer knows exactly the documented strategies") {
  for (auto& name : balancer_names()) {
    auto b = make_balancer(name);
    REQUIRE(b);
    CHECK((*b)->name() == name);
  }
  CHECK(balancer_names().size() == 8);
  auto bad = make_balancer("telepathy");
  REQUIRE_FALSE(bad);
  auto msg = to_string(bad.error());
  CHECK(msg.find("telepathy") != std::string::npos);
  CHECK(msg.find("power_of_two_choices") != std::string::npos);
  balancer_config cfg;
  cfg.latency_alpha = 0;
  CHECK_FALSE(make_balancer("least_latency", cfg));
  cfg = balancer_config{};
  cfg.virtual_nodes = 0;
  CHECK_FALSE(make_balancer("consistent_hash", cfg));
}

TEST_CASE("every strategy returns none when nobody has a slot") {
  std::vector<worker_view> pool{
      {2, 2, true, 1, 0}, {0, 4, false, 2, 0}, {5, 1, true, 3, 0}};
  for (auto& name : balancer_names()) {
    CAPTURE(name);
    auto b = make(name);
    CHECK(b->pick(pool, 42) == balancer::none);
    CHECK(b->pick({}, 42) == balancer::none);
    CHECK(b->pick({}) == balancer::none);
  }
}

TEST_CASE("every strategy picks only workers with a free slot") {
  std::mt19937_64 gen{7};
  for (auto& name : balancer_names()) {
    CAPTURE(name);
    auto b = make(name);
    for (int round = 0; round < 500; ++round) {
      auto pool = random_pool(gen);
      auto idx = b->pick(pool, gen());
      if (idx == balancer::none) {
        CHECK(count_eligible(pool) == 0);
      } else {
        REQUIRE(idx < pool.size());
        CHECK(pool[idx].has_slot());
      }
      if (b->uses_feedback() && idx != balancer::none)
        b->observe(pool[idx].id, std::chrono::microseconds{gen() % 1000}, true);
    }
  }
}

TEST_CASE("round_robin takes workers with a free slot in turn") {
  round_robin rr;
  auto pool = idle_pool(3);
  CHECK(rr.pick(pool) == 0);
  CHECK(rr.pick(pool) == 1);
  CHECK(rr.pick(pool) == 2);
  CHECK(rr.pick(pool) == 0);
  pool[1].healthy = false;
  CHECK(rr.pick(pool) == 2);
  CHECK(rr.pick(pool) == 0);
  pool[2].outstanding = pool[2].capacity;
  CHECK(rr.pick(pool) == 0);
  CHECK_FALSE(rr.uses_key());
}

TEST_CASE("least_connections never picks a busier worker than an eligible "
          "one") {
  std::mt19937_64 gen{11};
  least_connections lc;
  for (int round = 0; round < 5000; ++round) {
    auto pool = random_pool(gen);
    auto idx = lc.pick(pool);
    if (idx == balancer::none)
      continue;
    for (auto& w : pool)
      if (w.has_slot())
        CHECK(pool[idx].outstanding <= w.outstanding);
  }
}

TEST_CASE("least_connections shares between equally loaded workers") {
  least_connections lc;
  auto pool = idle_pool(3);
  pool[1].outstanding = 1;
  std::vector<size_t> picks;
  for (int i = 0; i < 4; ++i)
    picks.push_back(lc.pick(pool));
  CHECK(picks == std::vector<size_t>{0, 2, 0, 2});
  // When the pick is acted upon, load evens out.
  least_connections lc2;
  auto pool2 = idle_pool(4);
  for (int i = 0; i < 40; ++i)
    ++pool2[lc2.pick(pool2)].outstanding;
  for (auto& w : pool2)
    CHECK(w.outstanding == 10);
}

TEST_CASE("random is roughly uniform among eligible workers") {
  random_choice rnd{std::mt19937_64{3}};
  auto pool = idle_pool(5);
  pool[2].healthy = false;
  std::vector<size_t> counts(5);
  const int picks = 40000;
  for (int i = 0; i < picks; ++i)
    ++counts[rnd.pick(pool)];
  CHECK(counts[2] == 0);
  for (size_t i : {0, 1, 3, 4})
    CHECK(counts[i] == doctest::Approx(picks / 4).epsilon(0.05));
  // Same seed, same choices.
  random_choice a{99};
  random_choice b{99};
  for (int i = 0; i < 100; ++i)
    CHECK(a.pick(pool) == b.pick(pool));
}

TEST_CASE("power_of_two_choices never takes the busier of its two samples") {
  // With exactly two eligible workers both are always sampled, so the less
  // loaded one must win every time.
  power_of_two_choices p2c{5};
  std::vector<worker_view> pool{
      {3, 10, true, 1, 0}, {1, 10, true, 2, 0}, {0, 10, false, 3, 0}};
  for (int i = 0; i < 200; ++i)
    CHECK(p2c.pick(pool) == 1);
  // The busiest eligible worker never wins: it loses to whichever other
  // worker was sampled with it.
  std::mt19937_64 gen{13};
  for (int round = 0; round < 2000; ++round) {
    auto pool2 = idle_pool(6, 100);
    for (auto& w : pool2)
      w.outstanding = static_cast<uint32_t>(gen() % 50);
    pool2[gen() % 6].outstanding = 99; // unique maximum
    auto idx = p2c.pick(pool2);
    CHECK(pool2[idx].outstanding < 99);
  }
  // One eligible worker: take it.
  std::vector<worker_view> single{{0, 1, false, 1, 0}, {0, 1, true, 2, 0}};
  CHECK(p2c.pick(single) == 1);
}

TEST_CASE("power_of_two_choices prefers less loaded workers") {
  power_of_two_choices p2c{std::mt19937_64{17}};
  auto pool = idle_pool(4, 100);
  for (size_t i = 0; i < pool.size(); ++i)
    pool[i].outstanding = static_cast<uint32_t>(10 * i); // 0, 10, 20, 30
  std::vector<size_t> counts(4);
  const int picks = 12000;
  for (int i = 0; i < picks; ++i)
    ++counts[p2c.pick(pool)];
  // Expected shares: 3/6, 2/6, 1/6, 0.
  CHECK(counts[0] > counts[1]);
  CHECK(counts[1] > counts[2]);
  CHECK(counts[3] == 0);
  CHECK(counts[0] == doctest::Approx(picks / 2).epsilon(0.05));
}

TEST_CASE("weighted follows the declared weights") {
  weighted w;
  auto pool = idle_pool(3, 100000);
  pool[0].weight = 1;
  pool[1].weight = 2;
  pool[2].weight = 5;
  std::vector<size_t> counts(3);
  const int picks = 8000;
  for (int i = 0; i < picks; ++i)
    ++counts[w.pick(pool)];
  CHECK(counts[0] == doctest::Approx(picks * 1 / 8).epsilon(0.02));
  CHECK(counts[1] == doctest::Approx(picks * 2 / 8).epsilon(0.02));
  CHECK(counts[2] == doctest::Approx(picks * 5 / 8).epsilon(0.02));
}

TEST_CASE("weighted interleaves smoothly and uses capacity by default") {
  weighted w;
  std::vector<worker_view> pool{
      {0, 5, true, 1, 0}, {0, 1, true, 2, 0}, {0, 1, true, 3, 0}};
  std::string seq;
  for (int i = 0; i < 7; ++i)
    seq += static_cast<char>('a' + w.pick(pool));
  // nginx's example for weights 5, 1, 1.
  CHECK(seq == "aabacaa");
  // Ineligible workers are skipped without breaking the others' shares.
  weighted w2;
  auto pool2 = idle_pool(3, 1000);
  pool2[0].weight = 3;
  pool2[1].weight = 1;
  pool2[2].healthy = false;
  std::vector<size_t> counts(3);
  for (int i = 0; i < 400; ++i)
    ++counts[w2.pick(pool2)];
  CHECK(counts == std::vector<size_t>{300, 100, 0});
}

TEST_CASE("least_latency picks the lowest average and probes newcomers") {
  least_latency ll{0.5};
  CHECK(ll.uses_feedback());
  auto pool = idle_pool(3);
  // Nobody observed yet: all count as best, taken in turn.
  CHECK(ll.pick(pool) == 0);
  CHECK(ll.pick(pool) == 1);
  CHECK(ll.pick(pool) == 2);
  ll.observe(100, 300us, true);
  ll.observe(101, 100us, true);
  ll.observe(102, 200us, true);
  for (int i = 0; i < 5; ++i)
    CHECK(ll.pick(pool) == 1);
  CHECK(ll.latency_us(101) == doctest::Approx(100));
  // Averages move: worker 1 slows down.
  ll.observe(101, 500us, true); // 300
  ll.observe(101, 500us, true); // 400
  CHECK(ll.latency_us(101) == doctest::Approx(400));
  CHECK(ll.pick(pool) == 2);
  // A newcomer without observations is probed first.
  pool.push_back({0, 1000, true, 103, 0});
  CHECK(ll.pick(pool) == 3);
  // The best one without a slot is passed over.
  pool[3].outstanding = pool[3].capacity;
  pool[2].healthy = false;
  CHECK(ll.pick(pool) == 0);
  // forget() makes a worker new again.
  ll.forget(101);
  CHECK(ll.latency_us(101) < 0);
  CHECK(ll.pick(pool) == 1);
}

TEST_CASE("least_latency makes fast failures look slow") {
  least_latency ll{0.5, 4.0};
  auto pool = idle_pool(2);
  ll.observe(100, 1000us, true);
  ll.observe(101, 200us, true);
  CHECK(ll.pick(pool) == 1);
  ll.observe(101, 1us, false); // sample = 4 * 1000
  CHECK(ll.latency_us(101) == doctest::Approx(2100));
  CHECK(ll.pick(pool) == 0);
}

TEST_CASE("ewma") {
  ewma avg{0.2};
  CHECK(avg.empty());
  CHECK(avg.update(100) == doctest::Approx(100));
  CHECK(avg.update(200) == doctest::Approx(120));
  CHECK(avg.count() == 2);
  avg.reset();
  CHECK(avg.empty());
  CHECK(ewma{0}.alpha() == doctest::Approx(ewma::default_alpha));
  CHECK(ewma{1.5}.alpha() == doctest::Approx(ewma::default_alpha));
  CHECK(ewma{1}.alpha() == doctest::Approx(1));
}

TEST_CASE("consistent_hash maps a key to the same worker while membership "
          "is stable") {
  consistent_hash ch;
  CHECK(ch.uses_key());
  auto pool = idle_pool(5);
  for (int i = 0; i < 1000; ++i) {
    auto key = hash_key("req-" + std::to_string(i));
    auto first = ch.pick(pool, key);
    CHECK(ch.pick(pool, key) == first);
    // The ring decides, not the pool order.
    auto reversed = pool;
    std::reverse(reversed.begin(), reversed.end());
    CHECK(reversed[ch.pick(reversed, key)].id == pool[first].id);
  }
  // Keys spread over all workers.
  std::vector<size_t> counts(5);
  for (int i = 0; i < 5000; ++i)
    ++counts[ch.pick(pool, hash_key("k" + std::to_string(i)))];
  for (auto c : counts)
    CHECK(c > 500);
}

TEST_CASE("consistent_hash falls to the next worker on the ring") {
  consistent_hash ch;
  auto pool = idle_pool(5);
  CHECK(ch.ring().empty()); // the ring follows the pool on each pick
  ch.pick(pool, 0);
  CHECK(ch.ring().size() == 5);
  for (int i = 0; i < 500; ++i) {
    auto key = hash_key("req-" + std::to_string(i));
    auto order = ch.ring().lookup_n(key, 5);
    REQUIRE(order.size() == 5);
    auto idx_of = [&](uint64_t id) { return static_cast<size_t>(id - 100); };
    CHECK(ch.pick(pool, key) == idx_of(order[0]));
    auto p = pool;
    p[idx_of(order[0])].healthy = false;
    CHECK(ch.pick(p, key) == idx_of(order[1]));
    p[idx_of(order[1])].outstanding = p[idx_of(order[1])].capacity;
    CHECK(ch.pick(p, key) == idx_of(order[2]));
    // The owner is back: the key returns to it.
    CHECK(ch.pick(pool, key) == idx_of(order[0]));
  }
}

TEST_CASE("consistent_hash moves only the keys of a removed worker") {
  consistent_hash ch;
  auto pool = idle_pool(8);
  std::vector<uint64_t> keys;
  for (int i = 0; i < 20000; ++i)
    keys.push_back(hash_key("req-" + std::to_string(i)));
  std::vector<uint64_t> before;
  for (auto k : keys)
    before.push_back(pool[ch.pick(pool, k)].id);
  auto removed = pool[3].id;
  pool.erase(pool.begin() + 3); // shifts the indices of later workers
  size_t moved = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto now = pool[ch.pick(pool, keys[i])].id;
    if (now != before[i]) {
      ++moved;
      CHECK(before[i] == removed);
    } else {
      CHECK(now != removed);
    }
  }
  CHECK(moved > 0);
  CHECK(moved < keys.size() * 1.5 / 8);
}

TEST_CASE("modulo_hash is key % N, falling to the next eligible index") {
  modulo_hash mh;
  CHECK(mh.uses_key());
  auto pool = idle_pool(4);
  for (uint64_t k = 0; k < 100; ++k)
    CHECK(mh.pick(pool, k) == k % 4);
  pool[1].healthy = false;
  CHECK(mh.pick(pool, 5) == 2);
  pool[3].outstanding = pool[3].capacity;
  CHECK(mh.pick(pool, 3) == 0);
}
