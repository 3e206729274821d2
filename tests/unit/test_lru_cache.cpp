// lru_cache: LRU order, entry and byte bounds, TTL with an injected clock.

#include <doctest/doctest.h>

#include "runtime/lru_cache.hpp"

using namespace dine;
using namespace std::chrono_literals;

namespace {

std::vector<uint8_t> bytes(size_t n, uint8_t fill = 0xAB) {
  return std::vector<uint8_t>(n, fill);
}

/// A manual clock for the cache.
struct fake_clock {
  lru_cache::time_point t{std::chrono::seconds{1000}};

  lru_cache::clock_fn fn() {
    return [this] { return t; };
  }
};

} // namespace

TEST_CASE("lru cache evicts the least recently used entry") {
  lru_cache c{3, 1 << 20};
  CHECK(c.set("a", bytes(1, 1)));
  CHECK(c.set("b", bytes(1, 2)));
  CHECK(c.set("c", bytes(1, 3)));
  // Reading "a" makes "b" the least recently used entry.
  auto a = c.get("a");
  REQUIRE(a != nullptr);
  CHECK((*a)[0] == 1);
  CHECK(c.set("d", bytes(1, 4)));
  CHECK(c.size() == 3);
  CHECK_FALSE(c.exists("b"));
  CHECK(c.exists("a"));
  CHECK(c.exists("c"));
  CHECK(c.exists("d"));
  CHECK(c.stats().evictions == 1);
  // Replacing "c" refreshes it too: "a" goes next.
  CHECK(c.set("c", bytes(1, 33)));
  CHECK(c.set("e", bytes(1, 5)));
  CHECK_FALSE(c.exists("a"));
  REQUIRE(c.get("c") != nullptr);
  CHECK((*c.get("c"))[0] == 33);
  CHECK(c.stats().evictions == 2);
}

TEST_CASE("lru cache exists does not refresh recency") {
  lru_cache c{2, 1 << 20};
  CHECK(c.set("a", bytes(1)));
  CHECK(c.set("b", bytes(1)));
  CHECK(c.exists("a"));
  CHECK(c.set("c", bytes(1)));
  CHECK_FALSE(c.exists("a"));
  CHECK(c.exists("b"));
}

TEST_CASE("lru cache byte bound counts keys and values") {
  // Each entry: 1-byte key + 9-byte value = 10 bytes.
  lru_cache c{100, 30};
  CHECK(c.set("a", bytes(9)));
  CHECK(c.set("b", bytes(9)));
  CHECK(c.set("c", bytes(9)));
  CHECK(c.bytes() == 30);
  CHECK(c.size() == 3);
  // 20 bytes need room: "a" and "b" go, "c" stays.
  CHECK(c.set("d", bytes(19)));
  CHECK(c.bytes() == 30);
  CHECK(c.size() == 2);
  CHECK_FALSE(c.exists("a"));
  CHECK_FALSE(c.exists("b"));
  CHECK(c.exists("c"));
  CHECK(c.stats().evictions == 2);
  // Growing a value in place also evicts others.
  CHECK(c.set("c", bytes(14)));
  CHECK(c.bytes() == 15);
  CHECK_FALSE(c.exists("d"));
  // Shrinking updates the byte count.
  CHECK(c.set("c", bytes(1)));
  CHECK(c.bytes() == 2);
}

TEST_CASE("lru cache refuses a value larger than the byte bound") {
  lru_cache c{100, 30};
  CHECK(c.set("a", bytes(9)));
  CHECK_FALSE(c.set("c", bytes(30))); // 31 bytes with its key
  CHECK_FALSE(c.exists("c"));
  CHECK(c.exists("a")); // nothing was evicted for the refused value
  CHECK(c.stats().evictions == 0);
  CHECK(c.stats().rejected == 1);
  // A refused replacement removes the old value: it is stale.
  CHECK_FALSE(c.set("a", bytes(100)));
  CHECK_FALSE(c.exists("a"));
  CHECK(c.size() == 0);
  CHECK(c.bytes() == 0);
  // An entry of exactly the bound fits.
  CHECK(c.set("b", bytes(29)));
  CHECK(c.bytes() == 30);
  // A cache bounded to zero entries stores nothing.
  lru_cache none{0, 1000};
  CHECK_FALSE(none.set("a", bytes(1)));
  CHECK(none.size() == 0);
}

TEST_CASE("lru cache never serves an expired entry") {
  fake_clock clk;
  lru_cache c{10, 1 << 20, clk.fn()};
  CHECK(c.set("short", bytes(4), 100ms));
  CHECK(c.set("long", bytes(4), 10s));
  CHECK(c.set("forever", bytes(4)));
  clk.t += 99ms;
  CHECK(c.get("short") != nullptr);
  clk.t += 1ms; // exactly at the expiry: gone
  CHECK(c.get("short") == nullptr);
  CHECK(c.stats().expirations == 1);
  CHECK(c.stats().misses == 1);
  CHECK(c.size() == 2); // removed, not only hidden
  clk.t += 1h;
  CHECK_FALSE(c.exists("long"));
  CHECK(c.stats().expirations == 2);
  CHECK(c.get("forever") != nullptr);
  CHECK(c.size() == 1);
  CHECK(c.bytes() == 7 + 4);
}

TEST_CASE("lru cache set_until takes an absolute expiry") {
  fake_clock clk;
  lru_cache c{10, 1 << 20, clk.fn()};
  CHECK(c.set_until("a", bytes(1), clk.t + 5s));
  CHECK_FALSE(c.set_until("past", bytes(1), clk.t - 1s));
  CHECK_FALSE(c.set_until("now", bytes(1), clk.t));
  CHECK(c.set_until("never", bytes(1), lru_cache::never));
  CHECK(c.size() == 2);
  clk.t += 5s;
  CHECK(c.get("a") == nullptr);
  CHECK(c.get("never") != nullptr);
  // A TTL too large to add to the clock saturates to never.
  CHECK(c.set("huge", bytes(1), std::chrono::nanoseconds::max()));
  clk.t += std::chrono::hours{24 * 365 * 100};
  CHECK(c.exists("huge"));
}

TEST_CASE("lru cache evicts expired entries as expirations") {
  fake_clock clk;
  lru_cache c{2, 1 << 20, clk.fn()};
  CHECK(c.set("a", bytes(1), 1s));
  CHECK(c.set("b", bytes(1)));
  clk.t += 2s;
  CHECK(c.set("c", bytes(1)));
  CHECK(c.stats().expirations == 1);
  CHECK(c.stats().evictions == 0);
  CHECK(c.set("d", bytes(1)));
  CHECK(c.stats().evictions == 1);
  CHECK_FALSE(c.exists("b"));
}

TEST_CASE("lru cache purge_expired removes every expired entry") {
  fake_clock clk;
  lru_cache c{10, 1 << 20, clk.fn()};
  for (int i = 0; i < 5; ++i)
    CHECK(c.set("k" + std::to_string(i), bytes(1), std::chrono::seconds{i}));
  clk.t += 3s; // k1..k3 expired, k0 never expires, k4 lives
  CHECK(c.purge_expired() == 3);
  CHECK(c.size() == 2);
  CHECK(c.exists("k0"));
  CHECK(c.exists("k4"));
  CHECK(c.stats().expirations == 3);
}

TEST_CASE("lru cache erase and exists") {
  lru_cache c{10, 1 << 20};
  CHECK(c.set("a", bytes(3)));
  CHECK(c.exists("a"));
  CHECK(c.erase("a"));
  CHECK_FALSE(c.exists("a"));
  CHECK_FALSE(c.erase("a"));
  CHECK(c.size() == 0);
  CHECK(c.bytes() == 0);
  CHECK(c.get("a") == nullptr);
}

TEST_CASE("lru cache counts hits and misses") {
  lru_cache c{10, 1 << 20};
  CHECK(c.set("a", bytes(1)));
  CHECK(c.get("a") != nullptr);
  CHECK(c.get("a") != nullptr);
  CHECK(c.get("b") == nullptr);
  auto& st = c.stats();
  CHECK(st.hits == 2);
  CHECK(st.misses == 1);
  CHECK(st.evictions == 0);
  CHECK(st.expirations == 0);
  c.clear();
  CHECK(c.size() == 0);
  CHECK(c.get("a") == nullptr);
  CHECK(c.stats().misses == 2);
}
