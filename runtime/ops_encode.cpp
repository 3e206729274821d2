#include "runtime/ops_encode.hpp"

#include <set>

#include "runtime/msgpack_map.hpp"
#include "runtime/msgpack_reader.hpp"
#include "runtime/outlier_detector.hpp"

namespace dine {

namespace {

std::set<std::string> model_names(const cluster_stats& cs) {
  std::set<std::string> names;
  for (auto& w : cs.workers)
    names.insert(w.models.begin(), w.models.end());
  return names;
}

/// `"window"`, `"models"` and `"recent_errors"` of `stats`.
void add_window(msgpack_map& out, const window_stats& ws) {
  msgpack_map window;
  window.add("bucket_ms", ws.bucket_ms).add("summary_ms", ws.summary_ms);
  out.add("window", window);
  out.add_maps("models", ws.models, [](msgpack_map& m, auto& x) {
    msgpack_map series;
    series.add("count", x.count)
        .add("errors", x.error_count)
        .add("p50_us", x.p50)
        .add("p99_us", x.p99);
    m.add("model", x.model)
        .add("ok", x.ok)
        .add("errors", x.errors)
        .add("rps", x.rps)
        .add("p50_us", x.p50_us)
        .add("p99_us", x.p99_us)
        .add("series", series);
  });
  out.add_maps("recent_errors", ws.recent_errors, [](msgpack_map& m, auto& e) {
    m.add("seq", e.seq)
        .add("time_ms", e.time_ms)
        .add("model", e.model)
        .add("code", e.code)
        .add("message", e.message);
  });
}

void add_cache(msgpack_map& out, const cache_stats& c) {
  msgpack_map m;
  m.add("hits", c.hits)
      .add("misses", c.misses)
      .add("disk_hits", c.disk_hits)
      .add("evictions", c.evictions)
      .add("expirations", c.expirations)
      .add("entries", c.entries)
      .add("bytes", c.bytes)
      .add("writes", c.writes)
      .add("flushes", c.flushes)
      .add("errors", c.errors)
      .add("rejected", c.rejected)
      .add("lmdb_entries", c.lmdb_entries)
      .add("lmdb_map_bytes", c.lmdb_map_bytes)
      .add("lmdb_used_bytes", c.lmdb_used_bytes);
  out.add("cache", m);
}

void add_requests(msgpack_map& out, const request_counters& rc) {
  msgpack_map errors;
  for (size_t i = 0; i < rc.errors.size(); ++i)
    if (rc.errors[i] > 0)
      errors.add(to_string(static_cast<errc>(i)), rc.errors[i]);
  msgpack_map m;
  m.add("cached", rc.cached)
      .add("coalesced", rc.coalesced)
      .add("accepted", rc.accepted)
      .add("ok", rc.ok)
      .add("late", rc.late)
      .add("orphaned", rc.orphaned)
      .add("inflight", rc.inflight)
      .add("errors", errors);
  out.add("requests", m);
}

void fill_worker(msgpack_map& m, const worker_stats& w) {
  auto runs = w.batches + w.failures;
  m.add("name", w.name)
      .add("models", w.models)
      .add("batches", w.batches)
      .add("items", w.items)
      .add("failures", w.failures)
      .add("outstanding", w.outstanding)
      .add("latency_ewma_us", w.latency_us)
      .add("error_rate",
           runs > 0 ? static_cast<double>(w.failures) / runs : 0.0)
      .add("ejections", w.ejections)
      .add("ejected", w.ejected)
      .add("outlier", to_string(static_cast<outlier_state>(w.outlier)));
  if (w.kv_blocks_total > 0) // a generative model's KV pool, as of the
                             // worker's last result
    m.add("kv_blocks_total", w.kv_blocks_total)
        .add("kv_blocks_used", w.kv_blocks_used)
        .add("seqs_running", w.seqs_running)
        .add("seqs_waiting", w.seqs_waiting);
}

void fill_batcher(msgpack_map& m, const batcher_stats& b) {
  // Sparse histogram: {"size": count} for sizes that occurred.
  msgpack_map sizes;
  for (size_t i = 0; i < b.size_histogram.size(); ++i)
    if (b.size_histogram[i] > 0)
      sizes.add(std::to_string(i + 1), b.size_histogram[i]);
  m.add("model", b.model)
      .add("version", b.version)
      .add("shard", b.shard)
      .add("strategy", b.strategy)
      .add("batches", b.batches)
      .add("items", b.items)
      .add("retries", b.retries)
      .add("batch_sizes", sizes);
}

} // namespace

std::vector<uint8_t> encode_health(const cluster_stats& cs,
                                   const leader_status* leadership) {
  msgpack_map m;
  if (leadership)
    m.add("leader", leadership->leader)
        .add("etcd", leadership->etcd_ok ? "ok" : "unreachable")
        .add("leader_info", leadership->leader_value)
        .add("etcd_error", leadership->etcd_error);
  m.add("status", cs.workers.empty() ? "no_workers" : "ok")
      .add("workers", static_cast<uint64_t>(cs.workers.size()))
      .add("models", model_names(cs));
  return m.bytes();
}

std::vector<uint8_t>
encode_models(const cluster_stats& cs,
              const std::map<std::string, model_config>& table) {
  if (!cs.models.empty())
    return encode_model_registry(cs.models);
  msgpack_map m;
  m.add_maps(
      "models", model_names(cs), [&](msgpack_map& x, const std::string& n) {
        model_config mc;
        if (auto i = table.find(n); i != table.end())
          mc = i->second;
        std::vector<std::string> serving;
        for (auto& w : cs.workers)
          for (auto& wm : w.models)
            if (wm == n)
              serving.push_back(w.name);
        x.add("name", n)
            .add("version", mc.version)
            .add("backend", mc.backend)
            .add("max_batch_size", mc.max_batch_size)
            .add("max_delay_us", static_cast<uint64_t>(mc.max_delay.count()))
            .add("workers", serving);
      });
  return m.bytes();
}

std::vector<uint8_t> encode_model_registry(const std::vector<model_info>& ms) {
  msgpack_map m;
  m.add_maps("models", ms, [](msgpack_map& x, const model_info& mi) {
    std::set<std::string> all;
    for (auto& ws : mi.shard_workers)
      all.insert(ws.begin(), ws.end());
    x.add("name", mi.name)
        .add("version", mi.default_version)
        .add("versions", mi.versions)
        .add("backend", mi.backend)
        .add("max_batch_size", mi.max_batch_size)
        .add("max_delay_us", mi.max_delay_us)
        .add("workers", all)
        .add("shards", mi.shards)
        .add("shard_mode", mi.shard_mode)
        .add("shard_workers", mi.shard_workers)
        .add("balance", mi.balance)
        .add("fallback", mi.fallback)
        .add("schema", mi.schema)
        .add("schema_keys", mi.schema_keys)
        .add("batchable", mi.batchable)
        .add("quantized", mi.quantized)
        .add("cacheable", mi.cacheable)
        .add("timeout_ms", mi.timeout_ms);
  });
  return m.bytes();
}

std::vector<uint8_t> encode_stats(const cluster_stats& cs,
                                  const request_counters& rc,
                                  const cache_stats* cache,
                                  const window_stats* ws) {
  msgpack_map m;
  if (ws)
    add_window(m, *ws);
  if (cache)
    add_cache(m, *cache);
  add_requests(m, rc);
  m.add_maps("workers", cs.workers, fill_worker);
  m.add_maps("batchers", cs.batchers, fill_batcher);
  return m.bytes();
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
  msgpack_map m;
  m.add("workers", names);
  return m.bytes();
}

} // namespace dine
