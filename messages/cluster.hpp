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
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_decl& x) {
  return f(caf::meta::type_name("model_decl"), x.name, x.version);
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
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, heartbeat& x) {
  return f(caf::meta::type_name("heartbeat"), x.name, x.seq, x.batches,
           x.items);
}

/// Counters of one worker as the coordinator sees them.
struct worker_stats {
  std::string name;
  std::vector<std::string> models;
  uint64_t batches = 0;     ///< Batches answered.
  uint64_t items = 0;       ///< Items answered.
  uint64_t failures = 0;    ///< Batches lost to failures.
  uint32_t outstanding = 0; ///< Batches in flight now.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_stats& x) {
  return f(caf::meta::type_name("worker_stats"), x.name, x.models, x.batches,
           x.items, x.failures, x.outstanding);
}

/// Counters of one batcher.
struct batcher_stats {
  std::string model;
  uint64_t batches = 0;
  uint64_t items = 0;
  uint64_t retries = 0;
  std::vector<uint64_t> size_histogram; ///< [i] = batches of size i+1.
  std::vector<worker_stats> workers;    ///< The pool, as this batcher saw it.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batcher_stats& x) {
  return f(caf::meta::type_name("batcher_stats"), x.model, x.batches, x.items,
           x.retries, x.size_histogram, x.workers);
}

/// A snapshot of the router: workers and batchers.
struct cluster_stats {
  std::vector<worker_stats> workers;
  std::vector<batcher_stats> batchers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_stats& x) {
  return f(caf::meta::type_name("cluster_stats"), x.workers, x.batchers);
}

} // namespace dine
