// dine-storebench: compares runtime/lmdb_store with a bare loop over LMDB's
// C API on the same keys, values, batch size and sync mode.
//
// Both sides write records of 8 + B bytes (the store's expiry header plus
// the value) in write transactions of K puts, then read every key. The bare
// loop reads K keys per read transaction and copies each value into one
// reused buffer; the store reads one key per call (renewing its cached read
// transaction) and returns each value in a new vector, as the cache needs. The
// two sides alternate chunk by chunk, so load from other processes affects both
// alike. Each round uses fresh directories; the best round counts.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <lmdb.h>

#include "messages/errc.hpp"
#include "runtime/cache_key.hpp"
#include "runtime/lmdb_store.hpp"

namespace fs = std::filesystem;

using namespace dine;

namespace {

struct options {
  std::string dir = "/tmp/dine-storebench";
  size_t keys = 100000;
  size_t value_bytes = 64;
  size_t batch = 1000;
  size_t rounds = 5;
  size_t map_mib = 0; // 0: derived from keys and value size
  lmdb_sync_mode sync = lmdb_options{}.sync;
  bool json = false;
  bool keep = false;
};

struct result {
  double put_ops = 0; // per second
  double get_ops = 0;
  uint64_t checksum = 0;
};

using clock_type = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& msg) {
  fprintf(stderr, "dine-storebench: %s\n", msg.c_str());
  exit(1);
}

void check_rc(int rc, const char* what) {
  if (rc != MDB_SUCCESS)
    die(std::string{what} + ": " + mdb_strerror(rc));
}

void usage() {
  puts("usage: dine-storebench [--dir=PATH] [--keys=N] [--value-bytes=B]\n"
       "                       [--batch=K] [--sync=full|nometasync|nosync]\n"
       "                       [--rounds=R] [--map-mib=M] [--json] [--keep]\n"
       "  --dir          parent of the bare/ and store/ databases, which are\n"
       "                 deleted first (default /tmp/dine-storebench)\n"
       "  --keys         keys to put and get (default 100000)\n"
       "  --value-bytes  value size (default 64)\n"
       "  --batch        puts per write transaction (default 1000)\n"
       "  --sync         sync mode of both (default: the store's, full)\n"
       "  --rounds       rounds; the best counts (default 5)\n"
       "  --map-mib      map size of both (default: derived, >= 64)\n"
       "  --json         print one JSON object\n"
       "  --keep         keep the databases");
}

size_t parse_size(const std::string& arg, const std::string& val) {
  char* end = nullptr;
  auto x = strtoull(val.c_str(), &end, 10);
  if (val.empty() || *end != '\0')
    die("invalid number in " + arg);
  return static_cast<size_t>(x);
}

options parse(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto eq = arg.find('=');
    auto name = arg.substr(0, eq);
    auto val = eq == std::string::npos ? std::string{} : arg.substr(eq + 1);
    if (name == "--help" || name == "-h") {
      usage();
      exit(0);
    } else if (name == "--dir" && !val.empty()) {
      opts.dir = val;
    } else if (name == "--keys") {
      opts.keys = parse_size(arg, val);
    } else if (name == "--value-bytes") {
      opts.value_bytes = parse_size(arg, val);
    } else if (name == "--batch") {
      opts.batch = parse_size(arg, val);
    } else if (name == "--rounds") {
      opts.rounds = parse_size(arg, val);
    } else if (name == "--map-mib") {
      opts.map_mib = parse_size(arg, val);
    } else if (name == "--sync") {
      auto mode = parse_lmdb_sync_mode(val);
      if (!mode)
        die(classify(mode.error()).second);
      opts.sync = *mode;
    } else if (name == "--json" && val.empty()) {
      opts.json = true;
    } else if (name == "--keep" && val.empty()) {
      opts.keep = true;
    } else {
      usage();
      die("unknown argument " + arg);
    }
  }
  if (opts.keys == 0 || opts.batch == 0 || opts.rounds == 0)
    die("--keys, --batch and --rounds must be positive");
  if (opts.map_mib == 0) {
    // Generous room for B-tree overhead and copy-on-write pages.
    auto need = opts.keys * (64 + opts.value_bytes + 8) * 3;
    opts.map_mib = std::max<size_t>(64, (need >> 20) + 1);
  }
  return opts;
}

unsigned env_flags(lmdb_sync_mode mode) {
  unsigned flags = MDB_NOTLS; // as lmdb_store
  if (mode == lmdb_sync_mode::nosync_meta)
    flags |= MDB_NOMETASYNC;
  else if (mode == lmdb_sync_mode::nosync)
    flags |= MDB_NOSYNC;
  return flags;
}

void fresh_dir(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  fs::create_directories(path, ec);
  if (ec)
    die("cannot create " + path + ": " + ec.message());
}

/// The bare side: a raw LMDB environment.
class bare_db {
public:
  bare_db(const options& opts, const std::string& path) {
    fresh_dir(path);
    check_rc(mdb_env_create(&env_), "mdb_env_create");
    check_rc(mdb_env_set_mapsize(env_, opts.map_mib << 20),
             "mdb_env_set_mapsize");
    check_rc(mdb_env_open(env_, path.c_str(), env_flags(opts.sync), 0644),
             "mdb_env_open");
    MDB_txn* txn = nullptr;
    check_rc(mdb_txn_begin(env_, nullptr, 0, &txn), "mdb_txn_begin");
    check_rc(mdb_dbi_open(txn, nullptr, 0, &dbi_), "mdb_dbi_open");
    check_rc(mdb_txn_commit(txn), "mdb_txn_commit");
  }

  ~bare_db() { mdb_env_close(env_); }

  /// Puts records [first, last) in one write transaction.
  void put(const std::vector<std::string>& keys,
           const std::vector<std::vector<uint8_t>>& records, size_t first,
           size_t last) {
    MDB_txn* txn = nullptr;
    check_rc(mdb_txn_begin(env_, nullptr, 0, &txn), "mdb_txn_begin");
    for (auto i = first; i < last; ++i) {
      MDB_val k{keys[i].size(), const_cast<char*>(keys[i].data())};
      MDB_val v{records[i].size(), const_cast<uint8_t*>(records[i].data())};
      check_rc(mdb_put(txn, dbi_, &k, &v, 0), "mdb_put");
    }
    check_rc(mdb_txn_commit(txn), "mdb_txn_commit");
  }

  /// Gets keys [first, last) in one read transaction.
  uint64_t get(const std::vector<std::string>& keys, size_t first,
               size_t last) {
    uint64_t sum = 0;
    MDB_txn* txn = nullptr;
    check_rc(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
    for (auto i = first; i < last; ++i) {
      MDB_val k{keys[i].size(), const_cast<char*>(keys[i].data())};
      MDB_val v;
      check_rc(mdb_get(txn, dbi_, &k, &v), "mdb_get");
      // Copy the value out, as any reader must before the transaction ends,
      // but into a reused buffer: no allocation.
      auto p = static_cast<const uint8_t*>(v.mv_data) + 8;
      buf_.assign(p, p + (v.mv_size - 8));
      sum += buf_.size() + (buf_.empty() ? 0 : buf_[0]);
    }
    mdb_txn_abort(txn);
    return sum;
  }

  void sync() { check_rc(mdb_env_sync(env_, 1), "mdb_env_sync"); }

private:
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  std::vector<uint8_t> buf_;
};

lmdb_store open_store(const options& opts, const std::string& path) {
  fresh_dir(path);
  lmdb_options lo;
  lo.path = path;
  lo.map_size = opts.map_mib << 20;
  lo.max_map_size = std::max(lo.max_map_size, lo.map_size);
  lo.sync = opts.sync;
  auto st = lmdb_store::open(lo);
  if (!st)
    die(classify(st.error()).second);
  return std::move(*st);
}

/// Runs one round. Both sides work in alternating chunks of `batch` keys
/// (which side goes first alternates as well), so load from other processes
/// hits both alike.
void run_round(const options& opts, const std::vector<std::string>& keys,
               const std::vector<std::vector<uint8_t>>& values,
               const std::vector<std::vector<uint8_t>>& records,
               result& bare_res, result& store_res) {
  using dur = clock_type::duration;
  bare_db bare{opts, opts.dir + "/bare"};
  auto st = open_store(opts, opts.dir + "/store");
  auto n = keys.size();
  dur bare_t{0};
  dur store_t{0};
  std::vector<lmdb_entry> batch;
  auto store_put = [&](size_t first, size_t last) {
    auto t0 = clock_type::now();
    batch.resize(last - first);
    for (auto i = first; i < last; ++i) {
      auto& e = batch[i - first];
      e.key.assign(keys[i]);
      e.value.assign(values[i].begin(), values[i].end());
    }
    if (auto err = st.put_batch(batch))
      die(classify(err).second);
    store_t += clock_type::now() - t0;
  };
  auto bare_put = [&](size_t first, size_t last) {
    auto t0 = clock_type::now();
    bare.put(keys, records, first, last);
    bare_t += clock_type::now() - t0;
  };
  for (size_t i = 0, chunk = 0; i < n; i += opts.batch, ++chunk) {
    auto last = std::min(n, i + opts.batch);
    if (chunk % 2 == 0) {
      bare_put(i, last);
      store_put(i, last);
    } else {
      store_put(i, last);
      bare_put(i, last);
    }
  }
  if (opts.sync == lmdb_sync_mode::nosync) {
    auto t0 = clock_type::now();
    bare.sync();
    auto t1 = clock_type::now();
    if (auto err = st.sync())
      die(classify(err).second);
    bare_t += t1 - t0;
    store_t += clock_type::now() - t1;
  }
  auto rate = [n](dur d) {
    std::chrono::duration<double> secs = d;
    return secs.count() > 0 ? static_cast<double>(n) / secs.count() : 0.0;
  };
  bare_res.put_ops = rate(bare_t);
  store_res.put_ops = rate(store_t);
  bare_t = store_t = dur{0};
  bare_res.checksum = store_res.checksum = 0;
  auto store_get = [&](size_t first, size_t last) {
    auto t0 = clock_type::now();
    for (auto i = first; i < last; ++i) {
      auto val = st.get(keys[i]);
      if (!val || !*val)
        die("store lost key " + keys[i]);
      auto& v = **val;
      store_res.checksum += v.size() + (v.empty() ? 0 : v[0]);
    }
    store_t += clock_type::now() - t0;
  };
  auto bare_get = [&](size_t first, size_t last) {
    auto t0 = clock_type::now();
    bare_res.checksum += bare.get(keys, first, last);
    bare_t += clock_type::now() - t0;
  };
  for (size_t i = 0, chunk = 0; i < n; i += opts.batch, ++chunk) {
    auto last = std::min(n, i + opts.batch);
    if (chunk % 2 == 0) {
      bare_get(i, last);
      store_get(i, last);
    } else {
      store_get(i, last);
      bare_get(i, last);
    }
  }
  bare_res.get_ops = rate(bare_t);
  store_res.get_ops = rate(store_t);
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse(argc, argv);
  // Keys look like the cache's: "bench@1:<32 hex digits>", in hash order.
  std::vector<std::string> keys;
  std::vector<std::vector<uint8_t>> values;
  std::vector<std::vector<uint8_t>> records; // 8-byte header + value
  keys.reserve(opts.keys);
  values.reserve(opts.keys);
  records.reserve(opts.keys);
  for (size_t i = 0; i < opts.keys; ++i) {
    std::vector<uint8_t> id(8);
    for (int b = 0; b < 8; ++b)
      id[b] = static_cast<uint8_t>(i >> (8 * b));
    keys.push_back(cache_key("bench", 1, id));
    std::vector<uint8_t> value(opts.value_bytes);
    for (size_t b = 0; b < value.size(); ++b)
      value[b] = static_cast<uint8_t>(i + b);
    std::vector<uint8_t> record(8, 0);
    record.insert(record.end(), value.begin(), value.end());
    values.push_back(std::move(value));
    records.push_back(std::move(record));
  }
  result bare;
  result store;
  for (size_t r = 0; r < opts.rounds; ++r) {
    result b;
    result s;
    run_round(opts, keys, values, records, b, s);
    if (b.checksum != s.checksum)
      die("checksums differ between bare LMDB and lmdb_store");
    bare.put_ops = std::max(bare.put_ops, b.put_ops);
    bare.get_ops = std::max(bare.get_ops, b.get_ops);
    store.put_ops = std::max(store.put_ops, s.put_ops);
    store.get_ops = std::max(store.get_ops, s.get_ops);
  }
  if (!opts.keep) {
    std::error_code ec;
    fs::remove_all(opts.dir + "/bare", ec);
    fs::remove_all(opts.dir + "/store", ec);
  }
  auto put_ratio = bare.put_ops > 0 ? store.put_ops / bare.put_ops : 0;
  auto get_ratio = bare.get_ops > 0 ? store.get_ops / bare.get_ops : 0;
  if (opts.json) {
    printf("{\"keys\":%zu,\"value_bytes\":%zu,\"batch\":%zu,\"sync\":\"%s\","
           "\"rounds\":%zu,\"map_mib\":%zu,"
           "\"bare\":{\"put_ops_per_s\":%.0f,\"get_ops_per_s\":%.0f},"
           "\"store\":{\"put_ops_per_s\":%.0f,\"get_ops_per_s\":%.0f},"
           "\"ratio\":{\"put\":%.3f,\"get\":%.3f}}\n",
           opts.keys, opts.value_bytes, opts.batch, to_string(opts.sync),
           opts.rounds, opts.map_mib, bare.put_ops, bare.get_ops, store.put_ops,
           store.get_ops, put_ratio, get_ratio);
    return 0;
  }
  printf("keys=%zu value-bytes=%zu batch=%zu sync=%s rounds=%zu (best) "
         "map=%zu MiB\n",
         opts.keys, opts.value_bytes, opts.batch, to_string(opts.sync),
         opts.rounds, opts.map_mib);
  printf("%-12s %14s %14s\n", "", "put ops/s", "get ops/s");
  printf("%-12s %14.0f %14.0f\n", "bare LMDB", bare.put_ops, bare.get_ops);
  printf("%-12s %14.0f %14.0f\n", "lmdb_store", store.put_ops, store.get_ops);
  printf("%-12s %14.3f %14.3f\n", "store/bare", put_ratio, get_ratio);
  return 0;
}
