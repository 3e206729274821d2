// ops_encode: the msgpack outputs of the admin ops stay byte for byte what
// docs/protocol.md describes (golden sizes and FNV-1a hashes, taken from
// the hand-written encoders before they moved to runtime/msgpack_map.hpp;
// stats gained `requests.orphaned`, 10 bytes, since).

#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "runtime/msgpack_map.hpp"
#include "runtime/ops_encode.hpp"

using namespace dine;

namespace {

/// `size:fnv1a64` of `bs`, in hex.
std::string digest(const std::vector<uint8_t>& bs) {
  uint64_t h = 14695981039346656037ull;
  for (auto b : bs) {
    h ^= b;
    h *= 1099511628211ull;
  }
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%zu:%016llx", bs.size(),
                static_cast<unsigned long long>(h));
  return buf;
}

/// Values that need every msgpack integer width.
cluster_stats fixture() {
  cluster_stats cs;
  worker_stats w1;
  w1.name = "w1";
  w1.models = {"echo", "sleep"};
  w1.batches = 200;
  w1.items = 70000;
  w1.failures = 5;
  w1.outstanding = 3;
  w1.latency_us = 5000000000ull;
  w1.ejections = 1;
  w1.ejected = true;
  w1.outlier = 1;
  worker_stats w2;
  w2.name = "w2";
  w2.models = {"tiny"};
  w2.batches = 7;
  w2.kv_blocks_total = 256;
  w2.kv_blocks_used = 17;
  w2.seqs_running = 2;
  w2.seqs_waiting = 70000;
  cs.workers = {w1, w2};
  batcher_stats b;
  b.model = "echo";
  b.version = 2;
  b.shard = 1;
  b.strategy = "least_loaded";
  b.batches = 300;
  b.items = 1200;
  b.retries = 4;
  b.size_histogram = {0, 5, 0, 300};
  cs.batchers = {b};
  return cs;
}

model_info registry_fixture() {
  model_info m;
  m.name = "echo";
  m.versions = {1, 2, 300};
  m.default_version = 2;
  m.backend = "echo";
  m.max_batch_size = 32;
  m.max_delay_us = 70000;
  m.shards = 2;
  m.shard_mode = "hash";
  m.balance = "round_robin";
  m.fallback = "none";
  m.schema = "{}";
  m.schema_keys = {"a", "b"};
  m.batchable = true;
  m.quantized = false;
  m.cacheable = true;
  m.timeout_ms = 250;
  m.shard_workers = {{"w1", "w2"}, {"w2@v1"}};
  return m;
}

} // namespace

TEST_CASE("ops_encode: health, models and workers are byte-identical") {
  auto cs = fixture();
  CHECK(digest(encode_health(cs)) == "44:2a1f6830ff64855e");
  CHECK(digest(encode_health(cluster_stats{})) == "36:854008ea81502a41");
  std::map<std::string, model_config> table;
  model_config mc;
  mc.name = "echo";
  mc.version = 3;
  mc.backend = "echo";
  mc.max_batch_size = 64;
  mc.max_delay = std::chrono::microseconds{70000};
  table["echo"] = mc;
  CHECK(digest(encode_models(cs, table)) == "239:283c03f570826467");
  CHECK(digest(encode_workers({"w1", "w2"})) == "16:b586ddcea250e78b");
  cs.models = {registry_fixture()};
  CHECK(digest(encode_models(cs, table)) == "274:5b2a704996c086fb");
}

TEST_CASE("ops_encode: stats is byte-identical with and without extras") {
  auto cs = fixture();
  request_counters rc;
  rc.accepted = 70000;
  rc.ok = 69000;
  rc.late = 1;
  rc.inflight = 12;
  rc.cached = 300;
  rc.coalesced = 5000000000ull;
  rc.count_error(errc::deadline_exceeded);
  rc.count_error(errc::worker_failed);
  rc.count_error(errc::worker_failed);
  CHECK(digest(encode_stats(cs, rc)) == "594:a8e60908643b7179");
  cache_stats cache;
  cache.hits = 1;
  cache.misses = 200;
  cache.disk_hits = 70000;
  cache.lmdb_map_bytes = 5000000000ull;
  window_stats ws;
  ws.bucket_ms = 1000;
  ws.summary_ms = 10000;
  latency_window::model_view v;
  v.model = "echo";
  v.ok = 300;
  v.errors = 2;
  v.rps = 12.5;
  v.p50_us = 700;
  v.p99_us = 70000;
  v.count = {1, 2};
  v.error_count = {0, 1};
  v.p50 = {600, 800};
  v.p99 = {900, 70000};
  ws.models = {v};
  error_ring::entry e;
  e.seq = 1;
  e.time_ms = 1765000000000ull;
  e.model = "echo";
  e.code = "worker_failed";
  e.message = "session failed";
  ws.recent_errors = {e};
  CHECK(digest(encode_stats(cs, rc, &cache)) == "761:91790ceb7e93dd73");
  CHECK(digest(encode_stats(cs, rc, &cache, &ws)) == "1013:af35663d363cac09");
}

TEST_CASE("msgpack_map counts its fields, nested maps too") {
  msgpack_map empty;
  CHECK(empty.bytes() == std::vector<uint8_t>{0x80});
  msgpack_map inner;
  inner.add("n", 1u);
  msgpack_map outer;
  outer.add("a", true).add("m", inner).add("s", "x");
  CHECK(outer.size() == 3);
  CHECK(outer.bytes() == std::vector<uint8_t>{0x83, 0xa1, 'a', 0xc3, 0xa1, 'm',
                                              0x81, 0xa1, 'n', 0x01, 0xa1, 's',
                                              0xa1, 'x'});
}
