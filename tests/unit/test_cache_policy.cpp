// cache_policy: the cache actor's record format, expiry arithmetic and
// write-behind buffer.

#include <doctest/doctest.h>

#include <algorithm>
#include <limits>

#include "runtime/cache_policy.hpp"

using namespace dine;

namespace {

std::vector<uint8_t> bytes(std::initializer_list<int> xs) {
  std::vector<uint8_t> result;
  for (auto x : xs)
    result.push_back(static_cast<uint8_t>(x));
  return result;
}

} // namespace

TEST_CASE("cache_expiry_ms applies the TTL, the default and saturates") {
  CHECK(cache_expiry_ms(1000, 0, 0) == 0);
  CHECK(cache_expiry_ms(1000, 50, 0) == 1050);
  CHECK(cache_expiry_ms(1000, 0, 70) == 1070);
  CHECK(cache_expiry_ms(1000, 50, 70) == 1050);
  constexpr auto max = std::numeric_limits<uint64_t>::max();
  CHECK(cache_expiry_ms(max - 5, 50, 0) == max);
  CHECK_FALSE(is_expired(0, max));
  CHECK_FALSE(is_expired(1050, 1049));
  CHECK(is_expired(1050, 1050));
}

TEST_CASE("to_lru_time keeps the order and the distance of milliseconds") {
  using std::chrono::milliseconds;
  CHECK(to_lru_time(1050) - to_lru_time(1000) == milliseconds{50});
  CHECK(to_lru_expiry(0) == lru_cache::never);
  CHECK(to_lru_expiry(1000) == to_lru_time(1000));
  CHECK(to_lru_time(std::numeric_limits<uint64_t>::max()) == lru_cache::never);
  // Unix-epoch milliseconds of today fit well below the limit.
  CHECK(to_lru_time(1'700'000'000'000) < lru_cache::never);
}

TEST_CASE("an LRU on the mapped clock expires at the absolute expiry") {
  uint64_t now = 1'700'000'000'000;
  lru_cache lru{10, 1000, [&] { return to_lru_time(now); }};
  auto expiry = cache_expiry_ms(now, 100, 0);
  REQUIRE(lru.set_until("k", bytes({1}), to_lru_expiry(expiry)));
  now += 99;
  CHECK(lru.get("k") != nullptr);
  now += 1;
  CHECK(lru.get("k") == nullptr);
  CHECK(lru.stats().expirations == 1);
}

TEST_CASE("records round-trip expiry and value") {
  auto rec = encode_cache_record(0x0102030405060708, bytes({9, 8, 7}));
  REQUIRE(rec.size() == cache_record_header + 3);
  CHECK(rec[0] == 0x08); // little endian
  CHECK(rec[7] == 0x01);
  CHECK(cache_record_expiry(rec) == 0x0102030405060708);
  auto back = decode_cache_record(rec);
  REQUIRE(back);
  CHECK(back->expiry_ms == 0x0102030405060708);
  CHECK(back->value == bytes({9, 8, 7}));
  auto empty = decode_cache_record(encode_cache_record(0, {}));
  REQUIRE(empty);
  CHECK(empty->expiry_ms == 0);
  CHECK(empty->value.empty());
  CHECK_FALSE(decode_cache_record(bytes({1, 2, 3})));
  CHECK(cache_record_expiry(bytes({1, 2, 3})) == 0);
}

TEST_CASE("write_buffer keeps the latest write per key and counts bytes") {
  write_buffer buf;
  CHECK(buf.empty());
  buf.put("a", bytes({1, 2}), 5);
  buf.put("bb", bytes({3}), 0);
  CHECK(buf.size() == 2);
  CHECK(buf.bytes() == 3 + 3);
  buf.put("a", bytes({4, 5, 6, 7}), 9);
  CHECK(buf.size() == 2);
  CHECK(buf.bytes() == 5 + 3);
  REQUIRE(buf.find("a") != nullptr);
  CHECK(*buf.find("a") == bytes({4, 5, 6, 7}));
  CHECK(buf.find("zz") == nullptr);
  CHECK(buf.erase("bb"));
  CHECK_FALSE(buf.erase("bb"));
  CHECK(buf.bytes() == 5);
  buf.put("c", bytes({}), 0);
  auto xs = buf.take();
  CHECK(buf.empty());
  CHECK(buf.bytes() == 0);
  REQUIRE(xs.size() == 2);
  std::sort(xs.begin(), xs.end(), [](const lmdb_entry& x, const lmdb_entry& y) {
    return x.key < y.key;
  });
  CHECK(xs[0].key == "a");
  CHECK(xs[0].value == bytes({4, 5, 6, 7}));
  CHECK(xs[0].expiry_ms == 9);
  CHECK(xs[1].key == "c");
  CHECK(xs[1].value.empty());
  buf.put("d", bytes({1}), 0);
  buf.clear();
  CHECK(buf.empty());
  CHECK(buf.bytes() == 0);
}
