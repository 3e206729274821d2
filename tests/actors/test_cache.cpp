// cache: the cache actor through its typed interface, on real LMDB
// directories under /tmp. Every test ends with no actor left alive.

#include <doctest/doctest.h>

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include <unistd.h>

#include "actors/coordinator/cache.hpp"
#include "actors/supervision/supervisor.hpp"
#include "messages/errc.hpp"
#include "messages/types.hpp"
#include "tests/temp_dir.hpp"

using namespace dine;
using dine::test::temp_dir;
using namespace std::chrono_literals;

namespace fs = std::filesystem;

namespace {

using bytes = std::vector<uint8_t>;

bytes value_of(const std::string& x) {
  return bytes(x.begin(), x.end());
}

/// A manual clock in Unix-epoch ms.
struct manual_clock {
  std::shared_ptr<std::atomic<uint64_t>> ms =
      std::make_shared<std::atomic<uint64_t>>(1'700'000'000'000);

  std::function<uint64_t()> fn() const {
    return [ms = ms] { return ms->load(); };
  }

  void advance(std::chrono::milliseconds d) {
    *ms += static_cast<uint64_t>(d.count());
  }
};

struct config : caf::actor_system_config {
  config() {
    set("scheduler.max-threads", 2);
    register_types(*this);
  }
};

struct fixture {
  config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  size_t baseline;
  temp_dir tmp;

  fixture() : sys(cfg), self(sys), baseline(sys.registry().running()) {
    // nop
  }

  ~fixture() {
    // Nothing may outlive a test, or ~actor_system hangs.
    for (int i = 0; i < 500 && sys.registry().running() > baseline; ++i)
      std::this_thread::sleep_for(10ms);
    CHECK(sys.registry().running() == baseline);
    if (sys.registry().running() != baseline)
      sys.await_actors_before_shutdown(false);
  }

  cache_options options(const std::string& name = "db") {
    cache_options opts;
    opts.dir = tmp.sub(name);
    opts.log_errors = false;
    return opts;
  }

  bool put(const cache_actor& c, const std::string& key, const bytes& value,
           uint32_t ttl_ms = 0) {
    bool result = false;
    self->request(c, 5s, caf::put_atom::value, cache_entry{key, value, ttl_ms})
        .receive([&](bool stored) { result = stored; },
                 [&](caf::error& err) { FAIL_CHECK(sys.render(err)); });
    return result;
  }

  std::optional<bytes> get(const cache_actor& c, const std::string& key) {
    std::optional<bytes> result;
    self->request(c, 5s, caf::get_atom::value, key)
        .receive(
            [&](bool found, bytes& value) {
              if (found)
                result = std::move(value);
            },
            [&](caf::error& err) { FAIL_CHECK(sys.render(err)); });
    return result;
  }

  bool del(const cache_actor& c, const std::string& key) {
    bool result = false;
    self->request(c, 5s, caf::delete_atom::value, key)
        .receive([&](bool live) { result = live; },
                 [&](caf::error& err) { FAIL_CHECK(sys.render(err)); });
    return result;
  }

  bool exists(const cache_actor& c, const std::string& key) {
    bool result = false;
    self->request(c, 5s, exists_atom::value, key)
        .receive([&](bool live) { result = live; },
                 [&](caf::error& err) { FAIL_CHECK(sys.render(err)); });
    return result;
  }

  cache_stats stats(const cache_actor& c) {
    cache_stats result;
    self->request(c, 5s, stats_atom::value)
        .receive([&](cache_stats& x) { result = x; },
                 [&](caf::error& err) { FAIL_CHECK(sys.render(err)); });
    return result;
  }

  cache_hits lookup(const cache_actor& c, uint64_t tag,
                    std::vector<std::string> keys) {
    cache_hits result;
    self->request(c, 5s, cache_lookup{tag, std::move(keys)})
        .receive([&](cache_hits& x) { result = std::move(x); },
                 [&](caf::error& err) { FAIL_CHECK(sys.render(err)); });
    return result;
  }

  /// Polls `pred` every 2 ms for up to 5 s.
  template <class Pred>
  bool eventually(Pred pred) {
    for (int i = 0; i < 2500; ++i) {
      if (pred())
        return true;
      std::this_thread::sleep_for(2ms);
    }
    return pred();
  }

  /// Waits until `c` flushed at least `n` entries to LMDB.
  bool flushed(const cache_actor& c, uint64_t n) {
    return eventually([&] { return stats(c).writes >= n; });
  }

  /// Stops `c` with `reason` and returns its exit reason.
  caf::error stop(const cache_actor& c,
                  caf::exit_reason reason = caf::exit_reason::user_shutdown) {
    self->monitor(c);
    caf::anon_send_exit(c, reason);
    return down();
  }

  /// Waits for the next down message (of an actor monitored before).
  caf::error down() {
    caf::error result = caf::sec::request_timeout;
    self->receive([&](caf::down_msg& dm) { result = dm.reason; },
                  caf::after(5s) >> [] {});
    return result;
  }
};

} // namespace

TEST_CASE_FIXTURE(fixture, "get, put, delete and exists through the actor") {
  auto c = spawn_cache(sys, options());
  CHECK_FALSE(get(c, "k"));
  CHECK_FALSE(exists(c, "k"));
  CHECK(put(c, "k", value_of("v1")));
  CHECK(get(c, "k") == value_of("v1"));
  CHECK(exists(c, "k"));
  CHECK(put(c, "k", value_of("v2")));
  CHECK(get(c, "k") == value_of("v2"));
  CHECK(put(c, "empty", bytes{}));
  CHECK(get(c, "empty") == bytes{});
  CHECK(del(c, "k"));
  CHECK_FALSE(del(c, "k"));
  CHECK_FALSE(get(c, "k"));
  CHECK_FALSE(exists(c, "k"));
  // Deleted from disk as well, after a flush.
  CHECK(flushed(c, 1));
  auto written = stats(c).writes;
  CHECK(put(c, "d", value_of("x")));
  CHECK(flushed(c, written + 1));
  CHECK(del(c, "d"));
  CHECK_FALSE(exists(c, "d"));
  auto st = stats(c);
  CHECK(st.hits == 3);
  CHECK(st.misses == 2);
  CHECK(st.entries == 1);
  CHECK(st.lmdb_entries == 1);
  CHECK(st.lmdb_map_bytes > 0);
  CHECK(st.lmdb_used_bytes > 0);
  CHECK(st.errors == 0);
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "batched lookups answer in order") {
  auto c = spawn_cache(sys, options());
  std::vector<cache_entry> xs;
  for (int i = 0; i < 10; i += 2)
    xs.push_back(cache_entry{"k" + std::to_string(i),
                             value_of("v" + std::to_string(i)), 0});
  caf::anon_send(c, std::move(xs)); // one-way batched put
  auto hits = lookup(c, 42, {"k0", "k1", "k2", "k9", "k8", "k0"});
  CHECK(hits.tag == 42);
  REQUIRE(hits.found.size() == 6);
  REQUIRE(hits.values.size() == 6);
  CHECK(hits.found == bytes{1, 0, 1, 0, 1, 1});
  CHECK(hits.values[0] == value_of("v0"));
  CHECK(hits.values[1].empty());
  CHECK(hits.values[2] == value_of("v2"));
  CHECK(hits.values[3].empty());
  CHECK(hits.values[4] == value_of("v8"));
  CHECK(hits.values[5] == value_of("v0"));
  CHECK(lookup(c, 7, {}).found.empty());
  // The five puts of one message were written in one transaction.
  CHECK(flushed(c, 5));
  auto st = stats(c);
  CHECK(st.flushes == 1);
  CHECK(st.writes == 5);
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "a value past its TTL is never served") {
  manual_clock clock;
  auto opts = options();
  opts.now_ms = clock.fn();
  opts.default_ttl = 1000ms;
  auto c = spawn_cache(sys, opts);
  CHECK(put(c, "short", value_of("s"), 100));
  CHECK(put(c, "default", value_of("d")));
  clock.advance(99ms);
  CHECK(get(c, "short") == value_of("s"));
  clock.advance(1ms);
  CHECK_FALSE(get(c, "short"));
  CHECK_FALSE(exists(c, "short"));
  CHECK(get(c, "default") == value_of("d"));
  CHECK(flushed(c, 2));
  clock.advance(900ms);
  CHECK_FALSE(exists(c, "default"));
  CHECK_FALSE(get(c, "default"));
  CHECK(stats(c).expirations >= 2);
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "the stored expiry still applies after a restart") {
  manual_clock clock;
  auto opts = options();
  opts.now_ms = clock.fn();
  opts.flush_interval = 10s; // only the exit flush writes
  auto c = spawn_cache(sys, opts);
  CHECK(put(c, "ttl", value_of("t"), 500));
  CHECK(put(c, "forever", value_of("f")));
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
  clock.advance(400ms);
  c = spawn_cache(sys, opts);
  CHECK(get(c, "ttl") == value_of("t")); // from disk, promoted to memory
  CHECK(stats(c).disk_hits == 1);
  clock.advance(100ms);
  CHECK_FALSE(get(c, "ttl")); // the promoted copy expires on time
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
  c = spawn_cache(sys, opts);
  CHECK_FALSE(get(c, "ttl")); // and so does the record on disk
  CHECK(get(c, "forever") == value_of("f"));
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "memory evicts but LMDB still serves") {
  auto opts = options();
  opts.max_entries = 2;
  auto c = spawn_cache(sys, opts);
  for (auto key : {"a", "b", "c"})
    CHECK(put(c, key, value_of(key)));
  CHECK(flushed(c, 3));
  auto st = stats(c);
  CHECK(st.entries == 2);
  CHECK(st.evictions == 1);
  CHECK(st.lmdb_entries == 3);
  CHECK(get(c, "a") == value_of("a")); // evicted: read through from disk
  CHECK(stats(c).disk_hits == 1);
  CHECK(get(c, "a") == value_of("a")); // promoted: from memory now
  CHECK(stats(c).disk_hits == 1);
  CHECK(exists(c, "b")); // evicted by the promotion, exists on disk
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "an evicted value waiting for its flush is served") {
  auto opts = options();
  opts.max_entries = 1;
  opts.flush_interval = 10s;
  auto c = spawn_cache(sys, opts);
  CHECK(put(c, "a", value_of("a")));
  CHECK(put(c, "b", value_of("b")));
  CHECK(get(c, "a") == value_of("a"));
  CHECK(exists(c, "b"));
  auto st = stats(c);
  CHECK(st.writes == 0);
  CHECK(st.disk_hits == 0);
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "an orderly stop flushes and a new actor serves") {
  auto opts = options();
  opts.flush_interval = 10s; // nothing flushed before the stop
  auto c = spawn_cache(sys, opts);
  CHECK(put(c, "k", value_of("persisted")));
  CHECK(stats(c).writes == 0);
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
  c = spawn_cache(sys, opts, false); // scheduled instead of detached
  CHECK(get(c, "k") == value_of("persisted"));
  auto st = stats(c);
  CHECK(st.disk_hits == 1);
  CHECK(st.lmdb_entries == 1);
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture,
                  "a killed cache restarted by its supervisor serves") {
  auto opts = options();
  opts.flush_interval = 1ms;
  // No retry: the killed incarnation's state (and LMDB environment) must be
  // gone before the supervisor sees it down and starts the next one.
  opts.open_attempts = 1;
  auto sup =
      sys.spawn(supervisor, std::string{"cache-sup"},
                supervisor_flags{restart_strategy::one_for_one, 5, 10s},
                std::vector<supervised_child>{cache_child("cache", opts)});
  auto current = [&] {
    caf::actor result;
    self->request(sup, 5s, children_atom::value)
        .receive(
            [&](std::vector<child_info>& xs) {
              if (xs.size() == 1)
                result = xs[0].handle;
            },
            [&](caf::error& err) { FAIL_CHECK(sys.render(err)); });
    return result;
  };
  auto first = current();
  REQUIRE(first);
  auto c = caf::actor_cast<cache_actor>(first);
  CHECK(put(c, "before", value_of("flushed")));
  CHECK(flushed(c, 1));
  for (int round = 0; round < 3; ++round) {
    auto old = current();
    auto key = "round" + std::to_string(round);
    CHECK(put(caf::actor_cast<cache_actor>(old), key, value_of(key)));
    // Killed right after the put: its exit (on_exit) still flushes.
    caf::anon_send_exit(old, caf::exit_reason::kill);
    caf::actor next;
    CHECK(eventually([&] {
      next = current();
      return next && next != old;
    }));
    c = caf::actor_cast<cache_actor>(next);
    CHECK(get(c, "before") == value_of("flushed"));
    CHECK(get(c, key) == value_of(key));
    auto st = stats(c);
    CHECK(st.disk_hits == 2);
    CHECK(st.errors == 0); // opened the directory again
  }
  bool stopped = false;
  self->request(sup, 10s, stop_atom::value)
      .receive([&] { stopped = true; },
               [&](caf::error& err) { FAIL_CHECK(sys.render(err)); });
  CHECK(stopped);
}

TEST_CASE_FIXTURE(fixture,
                  "a second cache on the same directory waits for it") {
  auto opts = options();
  auto a = spawn_cache(sys, opts);
  CHECK(put(a, "k", value_of("from a")));
  // b cannot open the directory while a holds it; it retries.
  opts.open_attempts = 50;
  opts.open_retry_delay = 10ms;
  auto b = spawn_cache(sys, opts);
  CHECK(stop(a) == caf::exit_reason::user_shutdown);
  CHECK(eventually([&] { return stats(b).lmdb_map_bytes > 0; }));
  CHECK(get(b, "k") == value_of("from a"));
  CHECK(stats(b).errors == 0);
  CHECK(stop(b) == caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "oversize values and bad keys are rejected") {
  auto opts = options();
  opts.max_value_bytes = 16;
  auto c = spawn_cache(sys, opts);
  CHECK(put(c, "k", bytes(16, 1)));
  CHECK(get(c, "k") == bytes(16, 1));
  CHECK(flushed(c, 1));
  CHECK_FALSE(put(c, "k", bytes(17, 2)));
  CHECK_FALSE(get(c, "k")); // the replaced value is gone, also from disk
  CHECK_FALSE(put(c, "", value_of("x")));
  CHECK_FALSE(put(c, std::string(cache_max_key_bytes + 1, 'k'), value_of("x")));
  CHECK(put(c, std::string(cache_max_key_bytes, 'k'), value_of("x")));
  CHECK(flushed(c, 2));
  auto st = stats(c);
  CHECK(st.rejected == 3);
  CHECK(st.lmdb_entries == 1);
  CHECK(st.errors == 0);
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "an unopenable directory leaves a memory cache") {
  { std::ofstream{tmp.sub("file")} << "not a directory"; }
  auto opts = options("file/db");
  opts.open_retry_delay = 1ms;
  auto c = spawn_cache(sys, opts);
  CHECK(put(c, "k", value_of("v")));
  CHECK(get(c, "k") == value_of("v"));
  CHECK(eventually([&] { return stats(c).errors == 1; }));
  CHECK(put(c, "k2", value_of("v2")));
  CHECK(get(c, "k2") == value_of("v2"));
  CHECK(del(c, "k"));
  CHECK_FALSE(exists(c, "k"));
  auto st = stats(c);
  CHECK(st.errors == 1); // logged and counted once
  CHECK(st.writes == 0);
  CHECK(st.lmdb_map_bytes == 0);
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "require_disk makes an unopenable directory fatal") {
  { std::ofstream{tmp.sub("file")} << "not a directory"; }
  auto opts = options("file/db");
  opts.require_disk = true;
  opts.open_retry_delay = 1ms;
  auto c = spawn_cache(sys, opts);
  self->monitor(c);
  auto reason = down();
  CHECK(reason.category() == errc_category);
  CHECK(reason.code() == static_cast<uint8_t>(errc::storage_error));
  CHECK(sys.render(reason).find("cannot open LMDB") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "a corrupt data file leaves a memory cache") {
  auto opts = options();
  fs::create_directories(opts.dir);
  {
    std::ofstream out{opts.dir + "/data.mdb"};
    for (int i = 0; i < 4096; ++i)
      out << "garbage!";
  }
  opts.open_retry_delay = 1ms;
  auto c = spawn_cache(sys, opts);
  CHECK(eventually([&] { return stats(c).errors == 1; }));
  CHECK(put(c, "k", value_of("v")));
  CHECK(get(c, "k") == value_of("v"));
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "write-through mode writes before answering") {
  auto opts = options();
  opts.flush_interval = 0s;
  auto c = spawn_cache(sys, opts);
  CHECK(put(c, "k", value_of("v")));
  auto st = stats(c);
  CHECK(st.writes == 1);
  CHECK(st.flushes == 1);
  CHECK(st.lmdb_entries == 1);
  CHECK(stop(c, caf::exit_reason::kill) == caf::exit_reason::kill);
}

TEST_CASE_FIXTURE(fixture, "warming loads entries from disk at start") {
  auto opts = options();
  auto c = spawn_cache(sys, opts);
  for (auto key : {"a", "b", "c"})
    CHECK(put(c, key, value_of(key)));
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
  opts.load_on_start = true;
  opts.max_entries = 2;
  c = spawn_cache(sys, opts);
  auto st = stats(c);
  CHECK(st.entries == 2);
  CHECK(get(c, "a") == value_of("a"));
  CHECK(get(c, "b") == value_of("b"));
  CHECK(stats(c).disk_hits == 0); // key order: a and b were loaded
  CHECK(get(c, "c") == value_of("c"));
  CHECK(stats(c).disk_hits == 1);
  CHECK(stop(c) == caf::exit_reason::user_shutdown);
}

namespace {

using go_atom = caf::atom_constant<caf::atom("go")>;

/// Keeps `window` batched lookups in flight for `duration`, then replies
/// with the number of answered lookups.
caf::behavior lookup_driver(caf::event_based_actor* self, cache_actor c,
                            std::vector<std::string> keys, size_t window,
                            caf::timespan duration) {
  auto answered = std::make_shared<uint64_t>(0);
  auto found = std::make_shared<uint64_t>(0);
  auto deadline = std::make_shared<caf::actor_clock::time_point>();
  auto done = std::make_shared<caf::response_promise>();
  return {
      [=](go_atom) {
        *done = self->make_response_promise();
        *deadline = self->clock().now() + duration;
        for (size_t i = 0; i < window; ++i)
          self->send(c, cache_lookup{i, keys});
        return *done;
      },
      [=](cache_hits& x) {
        ++*answered;
        for (auto f : x.found)
          *found += f;
        if (self->clock().now() < *deadline) {
          self->send(c, cache_lookup{x.tag, keys});
          return;
        }
        if (done->pending()) { // the other replies in flight are dropped
          done->deliver(*answered, *found);
          self->quit();
        }
      },
  };
}

} // namespace

TEST_CASE_FIXTURE(fixture, "batched lookup throughput (measurement)") {
  std::vector<std::string> keys;
  std::vector<cache_entry> xs;
  for (int i = 0; i < 32; ++i) {
    keys.push_back("echo@1:" + std::to_string(1000 + i));
    xs.push_back(cache_entry{keys.back(), bytes(64, 7), 0});
  }
  for (auto detached : {true, false}) {
    auto opts = options(detached ? "detached" : "scheduled");
    auto c = spawn_cache(sys, opts, detached);
    caf::anon_send(c, xs);
    CHECK(stats(c).entries == 32); // the puts are in
    auto driver = sys.spawn(lookup_driver, c, keys, size_t{8},
                            caf::timespan{std::chrono::milliseconds{500}});
    auto t0 = std::chrono::steady_clock::now();
    uint64_t answered = 0;
    uint64_t found = 0;
    self->request(driver, 10s, go_atom::value)
        .receive(
            [&](uint64_t n, uint64_t f) {
              answered = n;
              found = f;
            },
            [&](caf::error& err) { FAIL_CHECK(sys.render(err)); });
    auto secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    CHECK(answered > 0); // else the next line holds as 0 == 0 * 32
    CHECK(found == answered * 32);
    MESSAGE(std::string{detached ? "detached" : "scheduled"}
            << " cache: " << static_cast<uint64_t>(answered / secs)
            << " lookups/s of 32 keys = "
            << static_cast<uint64_t>(answered * 32 / secs) << " keys/s");
    CHECK(stop(c) == caf::exit_reason::user_shutdown);
  }
}

TEST_CASE("make_cache_options maps the node's cache keys") {
  cache_settings x;
  x.dir = "/var/cache/dine";
  x.max_entries = 10;
  x.max_bytes = 1000;
  x.ttl_ms = 250;
  x.max_value_bytes = 100;
  x.sync = "full";
  x.flush_us = 500;
  auto opts = make_cache_options(x);
  REQUIRE(opts);
  CHECK(opts->dir == "/var/cache/dine");
  CHECK(opts->max_entries == 10);
  CHECK(opts->max_bytes == 1000);
  CHECK(opts->default_ttl == 250ms);
  CHECK(opts->max_value_bytes == 100);
  CHECK(opts->sync == lmdb_sync_mode::full);
  CHECK(opts->flush_interval == 500us);
  x.sync = "sometimes";
  CHECK_FALSE(make_cache_options(x));
}
