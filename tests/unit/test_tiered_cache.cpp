// tiered_cache: the response cache's engine without an actor system
// (runtime/tiered_cache.hpp): tiers, write-behind flushes, the final flush,
// open retries and giving up on the disk, expiry on an injected clock.

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "runtime/tiered_cache.hpp"
#include "tests/temp_dir.hpp"

using namespace dine;
using dine::test::temp_dir;
using namespace std::chrono_literals;

namespace {

/// A host whose clock only moves when told and whose timer only records.
struct fake_host {
  std::shared_ptr<tiered_cache_host::clock_type::time_point> now =
      std::make_shared<tiered_cache_host::clock_type::time_point>(
          tiered_cache_host::clock_type::time_point{} + 1h);
  std::shared_ptr<std::vector<std::chrono::microseconds>> wakes =
      std::make_shared<std::vector<std::chrono::microseconds>>();
  std::shared_ptr<std::vector<std::string>> lines =
      std::make_shared<std::vector<std::string>>();
  std::shared_ptr<uint64_t> epoch_ms =
      std::make_shared<uint64_t>(1'700'000'000'000);

  tiered_cache_host host() const {
    tiered_cache_host h;
    h.now = [p = now] { return *p; };
    h.wake_after = [w = wakes](std::chrono::microseconds d) {
      w->push_back(d);
    };
    h.print = [l = lines](const std::string& x) { l->push_back(x); };
    return h;
  }

  cache_options options(const std::string& dir) const {
    cache_options opts;
    opts.dir = dir;
    opts.flush_interval = 2ms;
    opts.now_ms = [p = epoch_ms] { return *p; };
    return opts;
  }
};

cache_entry entry(std::string key, std::string value, uint32_t ttl_ms = 0) {
  return cache_entry{std::move(key),
                     std::vector<uint8_t>(value.begin(), value.end()), ttl_ms};
}

/// Returns a path LMDB cannot open: a plain file.
std::string not_a_directory(const temp_dir& dir) {
  auto file = dir.sub("not-a-dir");
  std::ofstream{file} << "x";
  return file;
}

std::string text(const std::vector<uint8_t>& xs) {
  return std::string(xs.begin(), xs.end());
}

} // namespace

TEST_CASE("a tiered cache serves a put from memory and flushes it later") {
  temp_dir dir;
  fake_host fh;
  tiered_cache c{fh.options(dir.sub("db")), fh.host()};
  REQUIRE(c.phase() == tiered_cache::disk_phase::open);
  auto x = entry("k", "v1");
  CHECK(c.store(x));
  CHECK(*fh.wakes == std::vector<std::chrono::microseconds>{2ms});
  auto y = entry("k2", "v2");
  CHECK(c.store(y));
  CHECK(fh.wakes->size() == 1); // one flush timer for the whole buffer
  std::vector<uint8_t> out;
  CHECK(c.fetch("k", out));
  CHECK(text(out) == "v1");
  CHECK(c.snapshot().flushes == 0);
  CHECK(c.snapshot().lmdb_entries == 0);
  c.on_tick();
  auto st = c.snapshot();
  CHECK(st.flushes == 1);
  CHECK(st.writes == 2);
  CHECK(st.lmdb_entries == 2);
  CHECK(st.hits == 1);
}

TEST_CASE("a tiered cache in write-through mode arms no timer") {
  temp_dir dir;
  fake_host fh;
  auto opts = fh.options(dir.sub("db"));
  opts.flush_interval = 0us;
  tiered_cache c{opts, fh.host()};
  CHECK(c.write_through());
  auto x = entry("k", "v");
  CHECK(c.store(x));
  CHECK(fh.wakes->empty());
  CHECK(c.flush());
  CHECK(c.snapshot().lmdb_entries == 1);
}

TEST_CASE("the destructor flushes and a new engine finds the entry on disk") {
  temp_dir dir;
  fake_host fh;
  {
    tiered_cache c{fh.options(dir.sub("db")), fh.host()};
    auto x = entry("k", "persisted");
    REQUIRE(c.store(x));
  } // no tick: only the destructor writes it
  tiered_cache c{fh.options(dir.sub("db")), fh.host()};
  std::vector<uint8_t> out;
  CHECK(c.fetch("k", out));
  CHECK(text(out) == "persisted");
  auto st = c.snapshot();
  CHECK(st.disk_hits == 1);
  CHECK(st.hits == 1);
  CHECK(c.fetch("k", out)); // promoted to memory
  CHECK(c.snapshot().disk_hits == 1);
}

TEST_CASE("entries expire on the injected clock in memory and on disk") {
  temp_dir dir;
  fake_host fh;
  tiered_cache c{fh.options(dir.sub("db")), fh.host()};
  auto x = entry("k", "v", 50);
  REQUIRE(c.store(x));
  c.on_tick();
  std::vector<uint8_t> out;
  CHECK(c.fetch("k", out));
  *fh.epoch_ms += 51;
  CHECK_FALSE(c.fetch("k", out));
  CHECK_FALSE(c.contains("k"));
  auto st = c.snapshot();
  CHECK(st.expirations >= 1);
  CHECK(st.misses == 1);
}

TEST_CASE("an oversized put is rejected and removes the older value") {
  temp_dir dir;
  fake_host fh;
  auto opts = fh.options(dir.sub("db"));
  opts.max_value_bytes = 8;
  tiered_cache c{opts, fh.host()};
  auto x = entry("k", "small");
  REQUIRE(c.store(x));
  c.on_tick();
  auto big = entry("k", "much too large");
  CHECK_FALSE(c.store(big));
  std::vector<uint8_t> out;
  CHECK_FALSE(c.fetch("k", out));
  auto st = c.snapshot();
  CHECK(st.rejected == 1);
  CHECK(st.lmdb_entries == 0);
}

TEST_CASE("a disk that never opens is retried then given up for memory") {
  temp_dir dir;
  fake_host fh;
  auto opts = fh.options(not_a_directory(dir));
  opts.open_attempts = 3;
  opts.open_retry_delay = 20ms;
  tiered_cache c{opts, fh.host()};
  CHECK(c.phase() == tiered_cache::disk_phase::opening);
  CHECK(*fh.wakes == std::vector<std::chrono::microseconds>{20ms});
  auto x = entry("k", "buffered");
  REQUIRE(c.store(x)); // buffered while opening
  c.on_tick();         // not due yet: the clock did not move
  CHECK(c.phase() == tiered_cache::disk_phase::opening);
  *fh.now += 20ms;
  c.on_tick(); // second attempt
  CHECK(c.phase() == tiered_cache::disk_phase::opening);
  *fh.now += 20ms;
  c.on_tick(); // third and last
  CHECK(c.phase() == tiered_cache::disk_phase::failed);
  CHECK_FALSE(c.fatal());
  std::vector<uint8_t> out;
  CHECK(c.fetch("k", out)); // memory still serves
  CHECK(c.snapshot().errors == 1);
  REQUIRE(fh.lines->size() == 1);
  CHECK(fh.lines->front().find("serving from memory only") !=
        std::string::npos);
}

TEST_CASE("a required disk that never opens makes the engine fatal") {
  temp_dir dir;
  fake_host fh;
  auto opts = fh.options(not_a_directory(dir));
  opts.open_attempts = 1;
  opts.require_disk = true;
  tiered_cache c{opts, fh.host()};
  CHECK(c.phase() == tiered_cache::disk_phase::failed);
  CHECK(c.fatal());
  REQUIRE_FALSE(fh.wakes->empty());
  CHECK(fh.wakes->back() == 0us); // the host stops from its next handler
}
