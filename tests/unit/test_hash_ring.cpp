// hash_key, hash_ring and shard_for.

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "runtime/hash_ring.hpp"

using namespace dine;

namespace {

constexpr size_t num_keys = 100000;

std::vector<uint64_t> test_keys() {
  std::vector<uint64_t> result;
  result.reserve(num_keys);
  for (size_t i = 0; i < num_keys; ++i)
    result.push_back(hash_key("key-" + std::to_string(i)));
  return result;
}

hash_ring ring_of(std::vector<uint64_t> members, size_t vnodes = 100) {
  hash_ring result{vnodes};
  for (auto x : members)
    result.add(x);
  return result;
}

std::vector<uint64_t> owners(const hash_ring& ring,
                             const std::vector<uint64_t>& keys) {
  std::vector<uint64_t> result;
  result.reserve(keys.size());
  for (auto k : keys)
    result.push_back(*ring.lookup(k));
  return result;
}

} // namespace

TEST_CASE("hash_key is stable and spreads") {
  CHECK(hash_key("model-a") == hash_key("model-a"));
  CHECK(hash_key("model-a") != hash_key("model-b"));
  CHECK(hash_key("") != hash_key(std::string_view{"\0", 1}));
  // Keys differing in one character differ in about half the bits.
  auto a = hash_key("key-1");
  auto b = hash_key("key-2");
  auto bits = __builtin_popcountll(a ^ b);
  CHECK(bits > 16);
  CHECK(bits < 48);
  CHECK(mix64(1) != mix64(2));
}

TEST_CASE("hash_ring membership") {
  hash_ring ring;
  CHECK(ring.empty());
  CHECK_FALSE(ring.lookup(42).has_value());
  CHECK(ring.lookup_n(42, 3).empty());
  CHECK(ring.add(7));
  CHECK_FALSE(ring.add(7));
  CHECK(ring.add(3));
  CHECK(ring.size() == 2);
  CHECK(ring.contains(7));
  CHECK(ring.members() == std::vector<uint64_t>{3, 7});
  CHECK(ring.remove(7));
  CHECK_FALSE(ring.remove(7));
  CHECK(*ring.lookup(42) == 3);
  ring.clear();
  CHECK(ring.empty());
  CHECK(hash_ring{0}.virtual_nodes() == 1);
}

TEST_CASE("hash_ring does not depend on the order members were added in") {
  auto a = ring_of({1, 2, 3, 4, 5});
  auto b = ring_of({5, 3, 1, 4, 2});
  for (uint64_t k = 0; k < 1000; ++k)
    CHECK(*a.lookup(k) == *b.lookup(k));
}

TEST_CASE("hash_ring lookup_n returns distinct members clockwise") {
  auto ring = ring_of({10, 20, 30, 40});
  for (uint64_t k = 0; k < 200; ++k) {
    auto xs = ring.lookup_n(k, 3);
    REQUIRE(xs.size() == 3);
    CHECK(xs[0] == *ring.lookup(k));
    std::sort(xs.begin(), xs.end());
    CHECK(std::unique(xs.begin(), xs.end()) == xs.end());
  }
  CHECK(ring.lookup_n(5, 10).size() == 4);
  CHECK(ring.lookup_n(5, 0).empty());
  // The fallback order is what lookup_if walks.
  auto order = ring.lookup_n(5, 4);
  auto hit = ring.lookup_if(5, [&](uint64_t m) { return m != order[0]; });
  CHECK(*hit == order[1]);
  CHECK_FALSE(ring.lookup_if(5, [](uint64_t) { return false; }).has_value());
}

TEST_CASE("hash_ring spreads keys evenly over its members") {
  const size_t n = 10;
  auto ring = ring_of({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto keys = test_keys();
  std::map<uint64_t, size_t> counts;
  for (auto owner : owners(ring, keys))
    ++counts[owner];
  REQUIRE(counts.size() == n);
  for (auto& kvp : counts) {
    auto share = static_cast<double>(kvp.second) / num_keys;
    CHECK(share >= 0.5 / n);
    CHECK(share <= 1.6 / n);
  }
}

TEST_CASE("removing one of N members moves only that member's keys") {
  const size_t n = 10;
  std::vector<uint64_t> members;
  for (size_t i = 0; i < n; ++i)
    members.push_back(hash_key("worker-" + std::to_string(i)));
  auto ring = ring_of(members);
  auto keys = test_keys();
  auto before = owners(ring, keys);
  ring.remove(members[3]);
  auto after = owners(ring, keys);
  size_t moved = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (before[i] != after[i]) {
      ++moved;
      CHECK(before[i] == members[3]);
    }
  }
  CHECK(moved > 0);
  CHECK(static_cast<double>(moved) / num_keys <= 1.5 / n);
}

TEST_CASE("adding a member moves only keys to it") {
  const size_t n = 10;
  std::vector<uint64_t> members;
  for (size_t i = 0; i < n; ++i)
    members.push_back(i);
  auto ring = ring_of(members);
  auto keys = test_keys();
  auto before = owners(ring, keys);
  ring.add(n);
  auto after = owners(ring, keys);
  size_t moved = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (before[i] != after[i]) {
      ++moved;
      CHECK(after[i] == n);
    }
  }
  CHECK(moved > 0);
  CHECK(static_cast<double>(moved) / num_keys <= 1.5 / n);
}

TEST_CASE("shard_for in modulo mode is the plain hash modulo S") {
  for (uint64_t k = 0; k < 1000; ++k)
    CHECK(shard_for(k * 7919, 7, shard_mode::modulo) == (k * 7919) % 7);
  CHECK(shard_for(12345, 0, shard_mode::modulo) == 0);
  CHECK(shard_for(12345, 1, shard_mode::ring) == 0);
}

TEST_CASE("shard_for in ring mode is stable and moves few keys") {
  auto keys = test_keys();
  size_t moved = 0;
  std::vector<size_t> counts(8);
  for (auto k : keys) {
    auto s8 = shard_for(k, 8, shard_mode::ring);
    REQUIRE(s8 < 8);
    CHECK(s8 == shard_for(k, 8, shard_mode::ring));
    ++counts[s8];
    auto s9 = shard_for(k, 9, shard_mode::ring);
    if (s8 != s9) {
      ++moved;
      CHECK(s9 == 8);
    }
  }
  CHECK(static_cast<double>(moved) / num_keys <= 1.5 / 9);
  for (auto c : counts)
    CHECK(c > num_keys / 16);
  // For comparison: modulo moves most keys when S changes.
  size_t moved_mod = 0;
  for (auto k : keys)
    if (shard_for(k, 8, shard_mode::modulo) !=
        shard_for(k, 9, shard_mode::modulo))
      ++moved_mod;
  CHECK(moved_mod > num_keys / 2);
}

TEST_CASE("parse_shard_mode") {
  CHECK(*parse_shard_mode("ring") == shard_mode::ring);
  CHECK(*parse_shard_mode("modulo") == shard_mode::modulo);
  CHECK_FALSE(parse_shard_mode("rendezvous"));
  CHECK(std::string{to_string(shard_mode::modulo)} == "modulo");
}
