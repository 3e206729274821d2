#pragma once

// Messages of cluster membership: registration and heartbeats of workers,
// and the counters `stats` reports.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace dine {

/// One model a worker serves.
struct model_decl {
  std::string name;
  uint32_t version = 1;
  /// The worker's configured shard count of the model; the coordinator
  /// uses it only for models its own config does not define. 0 = unset.
  uint32_t shard_count = 0;
  /// Shard indices it serves; empty = every shard.
  std::vector<uint32_t> shards;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_decl& x) {
  return f(caf::meta::type_name("model_decl"), x.name, x.version, x.shard_count,
           x.shards);
}

/// What a worker declares when it registers.
struct worker_info {
  std::string name; ///< Unique worker name, e.g. `host:pid`.
  std::vector<model_decl> models;
  uint32_t capacity = 1; ///< Batches it runs at once.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_info& x) {
  return f(caf::meta::type_name("worker_info"), x.name, x.models, x.capacity);
}

/// A worker's periodic liveness report.
struct heartbeat {
  std::string name;
  uint64_t seq = 0;
  uint64_t batches = 0; ///< Batches run since start.
  uint64_t items = 0;   ///< Items run since start.
  /// The worker process's figures for the coordinator's metrics
  /// (docs/operations.md): CPU time, resident memory, supervisor restarts.
  uint64_t cpu_us = 0;
  uint64_t rss_bytes = 0;
  uint64_t restarts = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, heartbeat& x) {
  return f(caf::meta::type_name("heartbeat"), x.name, x.seq, x.batches, x.items,
           x.cpu_us, x.rss_bytes, x.restarts);
}

/// Counters of one worker as the coordinator sees them.
struct worker_stats {
  std::string name;
  std::vector<std::string> models;
  uint64_t batches = 0;     ///< Batches answered.
  uint64_t items = 0;       ///< Items answered.
  uint64_t failures = 0;    ///< Batches lost to failures.
  uint32_t outstanding = 0; ///< Batches in flight now.
  uint64_t latency_us = 0;  ///< Moving average of batch latency.
  uint32_t ejections = 0;   ///< Times the outlier detector ejected it.
  bool ejected = false;     ///< Ejected now (no new batches).
  /// Outlier detector state (`dine::outlier_state`: 0 active, 1 ejected,
  /// 2 probing); merged over batchers, the worst one wins.
  uint8_t outlier = 0;
  /// Generative models: its KV pool and sequences, as of its last result.
  uint64_t kv_blocks_total = 0;
  uint64_t kv_blocks_used = 0;
  uint32_t seqs_running = 0;
  uint32_t seqs_waiting = 0;
  /// From its last heartbeat (remote workers; 0 for local ones).
  uint64_t cpu_us = 0;
  uint64_t rss_bytes = 0;
  uint64_t restarts = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_stats& x) {
  return f(caf::meta::type_name("worker_stats"), x.name, x.models, x.batches,
           x.items, x.failures, x.outstanding, x.latency_us, x.ejections,
           x.ejected, x.outlier, x.kv_blocks_total, x.kv_blocks_used,
           x.seqs_running, x.seqs_waiting, x.cpu_us, x.rss_bytes, x.restarts);
}

/// Counters of one batcher.
struct batcher_stats {
  std::string model;
  uint64_t batches = 0;
  uint64_t items = 0;
  uint64_t retries = 0;
  std::vector<uint64_t> size_histogram; ///< [i] = batches of size i+1.
  std::vector<worker_stats> workers;    ///< The pool, as this batcher saw it.
  uint32_t version = 0;
  uint32_t shard = 0;
  std::string strategy; ///< Balancing strategy of the pool.
  uint64_t queued = 0;  ///< Requests waiting in its queue now.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batcher_stats& x) {
  return f(caf::meta::type_name("batcher_stats"), x.model, x.batches, x.items,
           x.retries, x.size_histogram, x.workers, x.version, x.shard,
           x.strategy, x.queued);
}

/// One model of the router's registry, for `--op=models`.
struct model_info {
  std::string name;
  std::vector<uint32_t> versions; ///< Known versions, ascending.
  uint32_t default_version = 0;   ///< What a request without one gets.
  std::string backend;
  uint32_t max_batch_size = 0;
  uint64_t max_delay_us = 0;
  uint32_t shards = 1;
  std::string shard_mode;
  std::string balance;
  std::string fallback;
  std::string schema;
  std::vector<std::string> schema_keys;
  bool batchable = true;
  bool quantized = false;
  bool cacheable = true;
  uint32_t timeout_ms = 0;
  /// [shard] = workers serving it (`name`, or `name@vN` for a version
  /// other than the default).
  std::vector<std::vector<std::string>> shard_workers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_info& x) {
  return f(caf::meta::type_name("model_info"), x.name, x.versions,
           x.default_version, x.backend, x.max_batch_size, x.max_delay_us,
           x.shards, x.shard_mode, x.balance, x.fallback, x.schema,
           x.schema_keys, x.batchable, x.quantized, x.cacheable, x.timeout_ms,
           x.shard_workers);
}

/// The version that a request without one runs on, for one model. The
/// router sends the coordinator the list whenever it changes: cache keys of
/// such requests name that version, so that a new version is never
/// answered with an older one's cached results.
struct model_version {
  std::string model;
  uint32_t version = 0;

  friend bool operator==(const model_version& x, const model_version& y) {
    return x.model == y.model && x.version == y.version;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_version& x) {
  return f(caf::meta::type_name("model_version"), x.model, x.version);
}

/// A snapshot of the router: workers, batchers and the model registry.
struct cluster_stats {
  std::vector<worker_stats> workers;
  std::vector<batcher_stats> batchers;
  std::vector<model_info> models;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_stats& x) {
  return f(caf::meta::type_name("cluster_stats"), x.workers, x.batchers,
           x.models);
}

} // namespace dine
