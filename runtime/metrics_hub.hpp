#pragma once

// The process's Prometheus metrics (docs/operations.md, "Metrics").
//
// Actors never touch the registry per request: each keeps a
// `request_recorder` (plain counters and bucket arrays, no lock) and folds
// it into the hub on its timer; figures other actors already keep (the
// router's cluster snapshot, the cache's counters) are handed over as a
// snapshot the same way. A scrape serialises the registry, the snapshot and
// the process's CPU time and resident memory under the hub's one mutex.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "messages/cache.hpp"
#include "messages/client.hpp"
#include "messages/cluster.hpp"

namespace dine {

/// Upper bounds (seconds) of the latency histograms: 50 us .. 10 s.
const std::vector<double>& latency_buckets();

/// Upper bounds of the batch size histogram: 1, 2, 4, .. 1024.
const std::vector<double>& batch_size_buckets();

/// Counts of one histogram between two folds: `counts[i]` = observations
/// in bucket i (not cumulative; the last one is +Inf).
struct histogram_delta {
  std::vector<double> counts;
  double sum = 0;
  uint64_t n = 0;

  /// Adds one observation of `value` against `bounds`.
  void observe(const std::vector<double>& bounds, double value);
};

/// What one actor recorded since its last fold: per model, replies by code
/// and the latency histograms. Not thread-safe: owned by one actor.
class request_recorder {
public:
  struct per_model {
    std::unordered_map<std::string, uint64_t> codes; ///< "ok" or errc name.
    histogram_delta total;                           ///< End to end.
    histogram_delta queue;                           ///< Ran on a worker.
    histogram_delta infer;                           ///< Ran on a worker.
  };

  /// Records one final reply of `model` with `code` (0 = ok) and `t`.
  /// Queue and infer time count only for replies a worker produced
  /// (`ran`): cache hits and errors before dispatch have none.
  void record(const std::string& model, uint8_t code, const timings& t,
              bool ran);

  bool empty() const { return models_.empty(); }

  /// Hands out what was recorded and starts again from zero.
  std::unordered_map<std::string, per_model> take() {
    return std::move(models_);
  }

private:
  std::unordered_map<std::string, per_model> models_;
};

/// CPU time (user + system) and resident memory of this process.
struct process_usage {
  double cpu_seconds = 0;
  uint64_t rss_bytes = 0;
};

/// Reads `process_usage` from getrusage and /proc/self/statm.
process_usage read_process_usage();

/// Counts one restart by any supervisor of this process (a process-wide
/// atomic: restarts are rare). Heartbeats carry it to the coordinator.
void count_supervisor_restart();

/// Restarts counted so far in this process.
uint64_t supervisor_restarts();

/// The process's metrics; shared by the actors that record and the HTTP
/// endpoint that serves them.
class metrics_hub : public prometheus::Collectable {
public:
  metrics_hub();

  /// Folds one actor's recorded requests into the registry.
  void fold(request_recorder& rec);

  /// Replaces the cluster snapshot: workers, batchers, in-flight requests
  /// and (if the node has one) the cache's counters.
  void set_cluster(const cluster_stats& cs, uint64_t inflight,
                   const cache_stats* cache);

  /// Counts log lines dropped because the log queue was full.
  void set_log_dropped(uint64_t n);

  /// Every metric family, as a scrape sees it.
  std::vector<prometheus::MetricFamily> Collect() const override;

  /// The Prometheus text exposition (version 0.0.4) of `Collect()`.
  std::string prometheus_text() const;

private:
  struct model_series {
    prometheus::Histogram* total = nullptr;
    prometheus::Histogram* queue = nullptr;
    prometheus::Histogram* infer = nullptr;
    std::unordered_map<std::string, prometheus::Counter*> codes;
  };

  model_series& series(const std::string& model);

  mutable std::mutex mtx_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* total_;
  prometheus::Family<prometheus::Histogram>* queue_;
  prometheus::Family<prometheus::Histogram>* infer_;
  std::unordered_map<std::string, model_series> models_;
  cluster_stats cluster_;
  uint64_t inflight_ = 0;
  bool has_cache_ = false;
  cache_stats cache_;
  uint64_t log_dropped_ = 0;
};

} // namespace dine
