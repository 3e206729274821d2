// lmdb_store: persistence, expiry, map growth, limits, corrupt files and
// stale readers of killed processes.

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "messages/errc.hpp"
#include "runtime/lmdb_store.hpp"
#include "tests/temp_dir.hpp"

using namespace dine;
using dine::test::temp_dir;

namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> result(n);
  for (size_t i = 0; i < n; ++i)
    result[i] = static_cast<uint8_t>(seed + i * 7);
  return result;
}

lmdb_options make_opts(const std::string& path) {
  lmdb_options opts;
  opts.path = path;
  return opts;
}

lmdb_store open_ok(const lmdb_options& opts) {
  auto st = lmdb_store::open(opts);
  if (!st)
    FAIL("open failed: " << classify(st.error()).second);
  return std::move(*st);
}

errc code_of(const caf::error& err) {
  return classify(err).first;
}

std::string message_of(const caf::error& err) {
  return classify(err).second;
}

std::optional<std::vector<uint8_t>> get_ok(lmdb_store& st,
                                           const std::string& key) {
  auto res = st.get(key);
  REQUIRE_MESSAGE(res, classify(res.error()).second);
  return std::move(*res);
}

void write_garbage(const std::string& file, size_t n, size_t offset = 0) {
  std::fstream out{file, std::ios::in | std::ios::out | std::ios::binary};
  if (!out.is_open())
    out.open(file, std::ios::out | std::ios::binary);
  REQUIRE(out.is_open());
  out.seekp(static_cast<std::streamoff>(offset));
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245 + 12345;
    out.put(static_cast<char>(x >> 16));
  }
}

} // namespace

TEST_CASE("lmdb store persists entries across reopen") {
  temp_dir dir;
  auto opts = make_opts(dir.sub("db"));
  {
    auto st = open_ok(opts);
    CHECK_FALSE(st.put("a", bytes(10, 1)));
    CHECK_FALSE(st.put("b", bytes(0, 0)));
    CHECK_FALSE(st.put("a", bytes(20, 2))); // replaces
    CHECK(get_ok(st, "a") == bytes(20, 2));
  }
  auto st = open_ok(opts);
  CHECK(get_ok(st, "a") == bytes(20, 2));
  auto b = get_ok(st, "b");
  REQUIRE(b.has_value());
  CHECK(b->empty());
  CHECK_FALSE(get_ok(st, "c").has_value());
  auto stats = st.stats();
  REQUIRE(stats);
  CHECK(stats->entries == 2);
  CHECK(stats->map_size == (size_t{64} << 20));
}

TEST_CASE("lmdb store erase and exists") {
  temp_dir dir;
  auto st = open_ok(make_opts(dir.path));
  CHECK_FALSE(st.put("k", bytes(5, 5)));
  CHECK(st.exists("k") == true);
  CHECK(st.erase("k") == true);
  CHECK(st.exists("k") == false);
  CHECK(st.erase("k") == false);
  CHECK(st.exists("") == false);
  CHECK(code_of(st.put("", bytes(1, 1))) == errc::storage_error);
}

TEST_CASE("lmdb store drops expired entries after reopen") {
  temp_dir dir;
  auto now = std::make_shared<std::atomic<uint64_t>>(1'000'000);
  auto opts = make_opts(dir.path);
  opts.now_ms = [now] { return now->load(); };
  {
    auto st = open_ok(opts);
    CHECK_FALSE(st.put("old", bytes(4, 1), 1'000'500));
    CHECK_FALSE(st.put("older", bytes(4, 2), 1'000'100));
    CHECK_FALSE(st.put("fresh", bytes(4, 3), 9'000'000));
    CHECK_FALSE(st.put("forever", bytes(4, 4), 0));
    CHECK(get_ok(st, "old").has_value()); // not yet expired
  }
  *now = 2'000'000;
  auto st = open_ok(opts);
  size_t seen = 0;
  auto visited = st.for_each([&](const lmdb_entry& e) {
    ++seen;
    CHECK((e.key == "fresh" || e.key == "forever"));
    CHECK(e.expiry_ms == (e.key == "fresh" ? 9'000'000u : 0u));
    CHECK(e.value.size() == 4);
  });
  REQUIRE(visited);
  CHECK(*visited == 2);
  CHECK(seen == 2);
  CHECK(st.stats()->entries == 4); // expired records are still on disk
  CHECK_FALSE(get_ok(st, "old").has_value());
  CHECK(st.stats()->entries == 3); // ... until a read deletes them
  auto purged = st.purge_expired();
  REQUIRE(purged);
  CHECK(*purged == 1); // "older"
  CHECK(st.stats()->entries == 2);
  CHECK(st.exists("fresh") == true);
  CHECK(st.erase("old") == false);
  *now = 9'000'000; // exactly at the expiry: gone
  CHECK(st.exists("fresh") == false);
  CHECK(get_ok(st, "forever") == bytes(4, 4));
}

TEST_CASE("lmdb store grows a full map and keeps every entry") {
  temp_dir dir;
  auto opts = make_opts(dir.path);
  opts.map_size = size_t{64} << 10;
  opts.max_map_size = size_t{64} << 20;
  size_t grown = 0;
  {
    auto st = open_ok(opts);
    REQUIRE(st.stats()->map_size == opts.map_size);
    // 2 MiB: 32 batches of 64 values of 1 KiB, then 16 single 8 KiB puts
    // (overflow pages).
    for (int b = 0; b < 32; ++b) {
      std::vector<lmdb_entry> batch;
      for (int i = 0; i < 64; ++i) {
        auto n = b * 64 + i;
        batch.push_back({"k" + std::to_string(n), bytes(1024, uint8_t(n)), 0});
      }
      REQUIRE_FALSE(st.put_batch(batch));
    }
    for (int i = 0; i < 16; ++i)
      REQUIRE_FALSE(st.put("big" + std::to_string(i), bytes(8192, 9)));
    auto stats = st.stats();
    REQUIRE(stats);
    CHECK(stats->map_size > opts.map_size);
    CHECK(stats->map_size >= (size_t{2} << 20));
    CHECK(stats->map_growths >= 5);
    CHECK(stats->used_bytes > (size_t{2} << 20));
    CHECK(stats->used_bytes <= stats->map_size);
    CHECK(stats->entries == 32 * 64 + 16);
    grown = stats->map_size;
    CHECK(get_ok(st, "k1234") == bytes(1024, uint8_t(1234)));
  }
  {
    // The map keeps the size it grew to ...
    auto st = open_ok(opts);
    CHECK(st.stats()->map_size == grown);
    CHECK(get_ok(st, "big15") == bytes(8192, 9));
  }
  // ... unless the options ask for more.
  opts.map_size = size_t{16} << 20;
  auto st = open_ok(opts);
  CHECK(st.stats()->map_size == opts.map_size);
  CHECK(get_ok(st, "k0") == bytes(1024, 0));
}

TEST_CASE("lmdb store reports a full map at max_map_size") {
  temp_dir dir;
  auto opts = make_opts(dir.path);
  opts.map_size = size_t{64} << 10;
  opts.max_map_size = size_t{256} << 10;
  auto st = open_ok(opts);
  caf::error err;
  for (int i = 0; i < 1000 && !err; ++i)
    err = st.put("k" + std::to_string(i), bytes(4096, 1));
  REQUIRE(err);
  CHECK(code_of(err) == errc::storage_error);
  CHECK(message_of(err).find("max_map_size") != std::string::npos);
  CHECK(st.stats()->map_size == opts.max_map_size);
  // The store still works for reads.
  CHECK(get_ok(st, "k0") == bytes(4096, 1));
}

TEST_CASE("lmdb store put_batch commits all entries in one transaction") {
  temp_dir dir;
  auto opts = make_opts(dir.path);
  std::vector<lmdb_entry> batch;
  for (int i = 0; i < 500; ++i)
    batch.push_back({"key-" + std::to_string(i), bytes(i % 50, uint8_t(i)),
                     static_cast<uint64_t>(i % 3 == 0 ? 0 : 1) << 62});
  {
    auto st = open_ok(opts);
    REQUIRE_FALSE(st.put_batch(batch));
    CHECK(st.stats()->entries == 500);
  }
  auto st = open_ok(opts);
  size_t n = 0;
  auto visited = st.for_each([&](const lmdb_entry&) { ++n; });
  REQUIRE(visited);
  CHECK(*visited == 500);
  for (auto& e : batch)
    CHECK(get_ok(st, e.key) == e.value);
}

TEST_CASE("lmdb store rejects values above max_value_size") {
  temp_dir dir;
  auto opts = make_opts(dir.path);
  opts.max_value_size = 1000;
  auto st = open_ok(opts);
  CHECK_FALSE(st.put("ok", bytes(1000, 1)));
  auto err = st.put("big", bytes(1001, 1));
  REQUIRE(err);
  CHECK(code_of(err) == errc::value_too_large);
  CHECK(message_of(err).find("1001") != std::string::npos);
  CHECK_FALSE(get_ok(st, "big").has_value());
  // One oversize value rejects the whole batch before anything is written.
  std::vector<lmdb_entry> batch{{"x", bytes(10, 1), 0},
                                {"y", bytes(5000, 1), 0}};
  CHECK(code_of(st.put_batch(batch)) == errc::value_too_large);
  CHECK_FALSE(get_ok(st, "x").has_value());
  // Keys above LMDB's limit are refused as well.
  CHECK(code_of(st.put(std::string(600, 'k'), bytes(1, 1))) ==
        errc::value_too_large);
  CHECK(st.stats()->entries == 1);
}

TEST_CASE("lmdb store refuses a corrupt data file at open") {
  temp_dir dir;
  SUBCASE("garbage only") {
    fs::create_directories(dir.sub("db"));
    write_garbage(dir.sub("db/data.mdb"), 16384);
  }
  SUBCASE("valid store with garbage meta pages") {
    {
      auto st = open_ok(make_opts(dir.sub("db")));
      CHECK_FALSE(st.put("a", bytes(100, 1)));
    }
    write_garbage(dir.sub("db/data.mdb"), 8192);
  }
  auto st = lmdb_store::open(make_opts(dir.sub("db")));
  REQUIRE_FALSE(st);
  CHECK(code_of(st.error()) == errc::storage_error);
  auto msg = message_of(st.error());
  CHECK(msg.find("mdb_env_open") != std::string::npos);
  CHECK(msg.find(dir.sub("db")) != std::string::npos);
}

TEST_CASE("lmdb store names a path it cannot create") {
  temp_dir dir;
  std::ofstream{dir.sub("file")} << "not a directory";
  auto path = dir.sub("file/db");
  auto st = lmdb_store::open(make_opts(path));
  REQUIRE_FALSE(st);
  CHECK(code_of(st.error()) == errc::storage_error);
  CHECK(message_of(st.error()).find(path) != std::string::npos);
  // A regular file as the directory fails too.
  auto st2 = lmdb_store::open(make_opts(dir.sub("file")));
  REQUIRE_FALSE(st2);
  CHECK(message_of(st2.error()).find(dir.sub("file")) != std::string::npos);
}

TEST_CASE("lmdb store refuses a second open in the same process") {
  temp_dir dir;
  auto st = open_ok(make_opts(dir.path));
  auto again = lmdb_store::open(make_opts(dir.path + "/."));
  REQUIRE_FALSE(again);
  CHECK(message_of(again.error()).find("already open") != std::string::npos);
  // Moving keeps the registration; destroying releases it.
  auto moved = std::move(st);
  CHECK_FALSE(lmdb_store::open(make_opts(dir.path)));
  { auto gone = std::move(moved); }
  CHECK(lmdb_store::open(make_opts(dir.path)));
}

TEST_CASE("lmdb store supports every sync mode") {
  CHECK(parse_lmdb_sync_mode("bogus").error());
  for (auto name : {"full", "nometasync", "nosync"}) {
    temp_dir dir;
    auto mode = parse_lmdb_sync_mode(name);
    REQUIRE(mode);
    CHECK(std::string{to_string(*mode)} == name);
    auto opts = make_opts(dir.path);
    opts.sync = *mode;
    {
      auto st = open_ok(opts);
      CHECK_FALSE(st.put("a", bytes(3, 3)));
      CHECK_FALSE(st.sync());
    }
    auto st = open_ok(opts);
    CHECK(get_ok(st, "a") == bytes(3, 3));
  }
}

TEST_CASE("lmdb store clears the reader slot of a killed process") {
  temp_dir dir;
  auto opts = make_opts(dir.path);
  // The parent keeps the environment open: the last process to close it
  // resets the lock file, which would hide the stale slot.
  auto st = open_ok(opts);
  REQUIRE_FALSE(st.put("a", bytes(1, 1)));
  CHECK(st.check_readers() == size_t{0});
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  auto pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Child: take a reader slot inside for_each and wait to be killed.
    close(fds[0]);
    auto child = lmdb_store::open(opts);
    if (!child)
      _exit(write(fds[1], "e", 1) == 1 ? 1 : 2);
    (void)child->for_each([&](const lmdb_entry&) {
      if (write(fds[1], "r", 1) != 1)
        _exit(3);
      for (;;)
        pause();
    });
    _exit(4);
  }
  close(fds[1]);
  pollfd pfd{fds[0], POLLIN, 0};
  char c = 0;
  auto ready = poll(&pfd, 1, 10'000) == 1 && read(fds[0], &c, 1) == 1;
  kill(pid, SIGKILL);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  close(fds[0]);
  REQUIRE(ready);
  REQUIRE(c == 'r');
  CHECK(WIFSIGNALED(status));
  CHECK(st.check_readers() == size_t{1});
  CHECK(st.check_readers() == size_t{0});
  CHECK(get_ok(st, "a") == bytes(1, 1));
}
