#include "runtime/ops_encode.hpp"

#include <set>

#include <msgpack.hpp>

#include "runtime/msgpack_reader.hpp"
#include "runtime/outlier_detector.hpp"

namespace dine {

namespace {

using packer = msgpack::packer<msgpack::sbuffer>;

void str(packer& pk, const std::string& s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

std::vector<uint8_t> bytes(const msgpack::sbuffer& buf) {
  return {buf.data(), buf.data() + buf.size()};
}

std::set<std::string> model_names(const cluster_stats& cs) {
  std::set<std::string> names;
  for (auto& w : cs.workers)
    names.insert(w.models.begin(), w.models.end());
  return names;
}

void u64s(packer& pk, const std::vector<uint64_t>& xs) {
  pk.pack_array(static_cast<uint32_t>(xs.size()));
  for (auto x : xs)
    pk.pack_uint64(x);
}

/// `"window"`, `"models"` and `"recent_errors"` of `stats`.
void encode_window(packer& pk, const window_stats& ws) {
  str(pk, "window");
  pk.pack_map(2);
  str(pk, "bucket_ms");
  pk.pack_uint64(ws.bucket_ms);
  str(pk, "summary_ms");
  pk.pack_uint64(ws.summary_ms);
  str(pk, "models");
  pk.pack_array(static_cast<uint32_t>(ws.models.size()));
  for (auto& m : ws.models) {
    pk.pack_map(7);
    str(pk, "model");
    str(pk, m.model);
    str(pk, "ok");
    pk.pack_uint64(m.ok);
    str(pk, "errors");
    pk.pack_uint64(m.errors);
    str(pk, "rps");
    pk.pack_double(m.rps);
    str(pk, "p50_us");
    pk.pack_uint64(m.p50_us);
    str(pk, "p99_us");
    pk.pack_uint64(m.p99_us);
    str(pk, "series");
    pk.pack_map(4);
    str(pk, "count");
    u64s(pk, m.count);
    str(pk, "errors");
    u64s(pk, m.error_count);
    str(pk, "p50_us");
    u64s(pk, m.p50);
    str(pk, "p99_us");
    u64s(pk, m.p99);
  }
  str(pk, "recent_errors");
  pk.pack_array(static_cast<uint32_t>(ws.recent_errors.size()));
  for (auto& e : ws.recent_errors) {
    pk.pack_map(5);
    str(pk, "seq");
    pk.pack_uint64(e.seq);
    str(pk, "time_ms");
    pk.pack_uint64(e.time_ms);
    str(pk, "model");
    str(pk, e.model);
    str(pk, "code");
    str(pk, e.code);
    str(pk, "message");
    str(pk, e.message);
  }
}

} // namespace

std::vector<uint8_t> encode_health(const cluster_stats& cs,
                                   const leader_status* leadership) {
  msgpack::sbuffer buf;
  packer pk{buf};
  auto names = model_names(cs);
  pk.pack_map(leadership ? 7 : 3);
  if (leadership) {
    str(pk, "leader");
    if (leadership->leader)
      pk.pack_true();
    else
      pk.pack_false();
    str(pk, "etcd");
    str(pk, leadership->etcd_ok ? "ok" : "unreachable");
    str(pk, "leader_info");
    str(pk, leadership->leader_value);
    str(pk, "etcd_error");
    str(pk, leadership->etcd_error);
  }
  str(pk, "status");
  str(pk, cs.workers.empty() ? "no_workers" : "ok");
  str(pk, "workers");
  pk.pack_uint64(cs.workers.size());
  str(pk, "models");
  pk.pack_array(static_cast<uint32_t>(names.size()));
  for (auto& n : names)
    str(pk, n);
  return bytes(buf);
}

std::vector<uint8_t>
encode_models(const cluster_stats& cs,
              const std::map<std::string, model_config>& table) {
  if (!cs.models.empty())
    return encode_model_registry(cs.models);
  msgpack::sbuffer buf;
  packer pk{buf};
  auto names = model_names(cs);
  pk.pack_map(1);
  str(pk, "models");
  pk.pack_array(static_cast<uint32_t>(names.size()));
  for (auto& n : names) {
    model_config mc;
    if (auto i = table.find(n); i != table.end())
      mc = i->second;
    pk.pack_map(6);
    str(pk, "name");
    str(pk, n);
    str(pk, "version");
    pk.pack_uint32(mc.version);
    str(pk, "backend");
    str(pk, mc.backend);
    str(pk, "max_batch_size");
    pk.pack_uint32(mc.max_batch_size);
    str(pk, "max_delay_us");
    pk.pack_uint64(static_cast<uint64_t>(mc.max_delay.count()));
    std::vector<std::string> serving;
    for (auto& w : cs.workers)
      for (auto& m : w.models)
        if (m == n)
          serving.push_back(w.name);
    str(pk, "workers");
    pk.pack_array(static_cast<uint32_t>(serving.size()));
    for (auto& w : serving)
      str(pk, w);
  }
  return bytes(buf);
}

std::vector<uint8_t> encode_model_registry(const std::vector<model_info>& ms) {
  msgpack::sbuffer buf;
  packer pk{buf};
  auto strs = [&](const std::vector<std::string>& xs) {
    pk.pack_array(static_cast<uint32_t>(xs.size()));
    for (auto& x : xs)
      str(pk, x);
  };
  pk.pack_map(1);
  str(pk, "models");
  pk.pack_array(static_cast<uint32_t>(ms.size()));
  for (auto& m : ms) {
    pk.pack_map(18);
    str(pk, "name");
    str(pk, m.name);
    str(pk, "version");
    pk.pack_uint32(m.default_version);
    str(pk, "versions");
    pk.pack(m.versions);
    str(pk, "backend");
    str(pk, m.backend);
    str(pk, "max_batch_size");
    pk.pack_uint32(m.max_batch_size);
    str(pk, "max_delay_us");
    pk.pack_uint64(m.max_delay_us);
    std::set<std::string> all;
    for (auto& ws : m.shard_workers)
      all.insert(ws.begin(), ws.end());
    str(pk, "workers");
    strs({all.begin(), all.end()});
    str(pk, "shards");
    pk.pack_uint32(m.shards);
    str(pk, "shard_mode");
    str(pk, m.shard_mode);
    str(pk, "shard_workers");
    pk.pack_array(static_cast<uint32_t>(m.shard_workers.size()));
    for (auto& ws : m.shard_workers)
      strs(ws);
    str(pk, "balance");
    str(pk, m.balance);
    str(pk, "fallback");
    str(pk, m.fallback);
    str(pk, "schema");
    str(pk, m.schema);
    str(pk, "schema_keys");
    strs(m.schema_keys);
    str(pk, "batchable");
    pk.pack(m.batchable);
    str(pk, "quantized");
    pk.pack(m.quantized);
    str(pk, "cacheable");
    pk.pack(m.cacheable);
    str(pk, "timeout_ms");
    pk.pack_uint32(m.timeout_ms);
  }
  return bytes(buf);
}

std::vector<uint8_t> encode_stats(const cluster_stats& cs,
                                  const request_counters& rc,
                                  const cache_stats* cache,
                                  const window_stats* ws) {
  msgpack::sbuffer buf;
  packer pk{buf};
  pk.pack_map((cache ? 4 : 3) + (ws ? 3 : 0));
  if (ws)
    encode_window(pk, *ws);
  if (cache) {
    std::pair<const char*, uint64_t> fields[] = {
        {"hits", cache->hits},
        {"misses", cache->misses},
        {"disk_hits", cache->disk_hits},
        {"evictions", cache->evictions},
        {"expirations", cache->expirations},
        {"entries", cache->entries},
        {"bytes", cache->bytes},
        {"writes", cache->writes},
        {"flushes", cache->flushes},
        {"errors", cache->errors},
        {"rejected", cache->rejected},
        {"lmdb_entries", cache->lmdb_entries},
        {"lmdb_map_bytes", cache->lmdb_map_bytes},
        {"lmdb_used_bytes", cache->lmdb_used_bytes},
    };
    str(pk, "cache");
    pk.pack_map(static_cast<uint32_t>(std::size(fields)));
    for (auto& [k, v] : fields) {
      str(pk, k);
      pk.pack_uint64(v);
    }
  }
  str(pk, "requests");
  pk.pack_map(7);
  str(pk, "cached");
  pk.pack_uint64(rc.cached);
  str(pk, "coalesced");
  pk.pack_uint64(rc.coalesced);
  str(pk, "accepted");
  pk.pack_uint64(rc.accepted);
  str(pk, "ok");
  pk.pack_uint64(rc.ok);
  str(pk, "late");
  pk.pack_uint64(rc.late);
  str(pk, "inflight");
  pk.pack_uint64(rc.inflight);
  uint32_t nerr = 0;
  for (auto e : rc.errors)
    nerr += e > 0 ? 1 : 0;
  str(pk, "errors");
  pk.pack_map(nerr);
  for (size_t i = 0; i < rc.errors.size(); ++i)
    if (rc.errors[i] > 0) {
      str(pk, to_string(static_cast<errc>(i)));
      pk.pack_uint64(rc.errors[i]);
    }
  str(pk, "workers");
  pk.pack_array(static_cast<uint32_t>(cs.workers.size()));
  for (auto& w : cs.workers) {
    bool gen = w.kv_blocks_total > 0;
    pk.pack_map(gen ? 15 : 11);
    str(pk, "name");
    str(pk, w.name);
    str(pk, "models");
    pk.pack_array(static_cast<uint32_t>(w.models.size()));
    for (auto& m : w.models)
      str(pk, m);
    str(pk, "batches");
    pk.pack_uint64(w.batches);
    str(pk, "items");
    pk.pack_uint64(w.items);
    str(pk, "failures");
    pk.pack_uint64(w.failures);
    str(pk, "outstanding");
    pk.pack_uint32(w.outstanding);
    str(pk, "latency_ewma_us");
    pk.pack_uint64(w.latency_us);
    auto runs = w.batches + w.failures;
    str(pk, "error_rate");
    pk.pack_double(runs > 0 ? static_cast<double>(w.failures) / runs : 0.0);
    str(pk, "ejections");
    pk.pack_uint32(w.ejections);
    str(pk, "ejected");
    pk.pack(w.ejected);
    str(pk, "outlier");
    str(pk, to_string(static_cast<outlier_state>(w.outlier)));
    if (gen) {
      // A generative model's KV pool, as of the worker's last result.
      str(pk, "kv_blocks_total");
      pk.pack_uint64(w.kv_blocks_total);
      str(pk, "kv_blocks_used");
      pk.pack_uint64(w.kv_blocks_used);
      str(pk, "seqs_running");
      pk.pack_uint32(w.seqs_running);
      str(pk, "seqs_waiting");
      pk.pack_uint32(w.seqs_waiting);
    }
  }
  str(pk, "batchers");
  pk.pack_array(static_cast<uint32_t>(cs.batchers.size()));
  for (auto& b : cs.batchers) {
    pk.pack_map(8);
    str(pk, "model");
    str(pk, b.model);
    str(pk, "version");
    pk.pack_uint32(b.version);
    str(pk, "shard");
    pk.pack_uint32(b.shard);
    str(pk, "strategy");
    str(pk, b.strategy);
    str(pk, "batches");
    pk.pack_uint64(b.batches);
    str(pk, "items");
    pk.pack_uint64(b.items);
    str(pk, "retries");
    pk.pack_uint64(b.retries);
    // Sparse histogram: {"size": count} for sizes that occurred.
    uint32_t nz = 0;
    for (auto c : b.size_histogram)
      nz += c > 0 ? 1 : 0;
    str(pk, "batch_sizes");
    pk.pack_map(nz);
    for (size_t i = 0; i < b.size_histogram.size(); ++i)
      if (b.size_histogram[i] > 0) {
        str(pk, std::to_string(i + 1));
        pk.pack_uint64(b.size_histogram[i]);
      }
  }
  return bytes(buf);
}

caf::expected<fault_spec> decode_fault_spec(const std::vector<uint8_t>& in) {
  auto bad = [](const std::string& what) {
    return make_error(errc::invalid_request, "fault: " + what);
  };
  msgpack_reader rd{in.data(), in.size()};
  uint32_t n = 0;
  if (!rd.read_map_header(n))
    return bad("inputs must be a map");
  fault_spec spec;
  bool have_kind = false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key;
    if (!rd.read_str(key))
      return bad("keys must be strings");
    std::string_view s;
    uint64_t u = 0;
    if (key == "model" || key == "worker" || key == "kind") {
      if (!rd.read_str(s))
        return bad("`" + std::string{key} + "` must be a string");
      if (key == "model")
        spec.model.assign(s.data(), s.size());
      else if (key == "worker")
        spec.worker.assign(s.data(), s.size());
      else if (!from_string(std::string{s}, spec.kind))
        return bad("unknown kind `" + std::string{s} +
                   "` (off, crash, crash_on_start, hang, error, slow)");
      else
        have_kind = true;
    } else if (key == "rate") {
      double r = 0;
      if (!rd.read_double(r) || !(r >= 0 && r <= 1))
        return bad("`rate` must be a number from 0 to 1");
      spec.rate = r;
    } else if (key == "count" || key == "slow_ms") {
      if (!rd.read_uint(u) || u > UINT32_MAX)
        return bad("`" + std::string{key} + "` must be an unsigned integer");
      if (key == "slow_ms" && u > max_fault_slow_ms)
        return bad("`slow_ms` must be at most " +
                   std::to_string(max_fault_slow_ms));
      (key == "count" ? spec.count : spec.slow_ms) = static_cast<uint32_t>(u);
    } else if (!rd.skip()) {
      return bad("malformed inputs");
    }
  }
  if (!have_kind)
    return bad("missing `kind`");
  return spec;
}

std::vector<uint8_t> encode_workers(const std::vector<std::string>& names) {
  msgpack::sbuffer buf;
  packer pk{buf};
  pk.pack_map(1);
  str(pk, "workers");
  pk.pack_array(static_cast<uint32_t>(names.size()));
  for (auto& n : names)
    str(pk, n);
  return bytes(buf);
}

} // namespace dine
