#include "runtime/metrics_hub.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>

#include <prometheus/text_serializer.h>

#include "messages/errc.hpp"

namespace dine {

namespace {

std::atomic<uint64_t> restarts_counter{0};

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

ClientMetric sample(std::vector<ClientMetric::Label> labels, double value,
                    MetricType type) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  return m;
}

/// One series per worker of a cluster snapshot.
void per_worker(std::vector<MetricFamily>& out, const cluster_stats& cs,
                std::string name, std::string help, MetricType type,
                double (*value)(const worker_stats&)) {
  auto f = family(std::move(name), std::move(help), type);
  for (auto& w : cs.workers)
    f.metric.push_back(sample({{"worker", w.name}}, value(w), type));
  out.push_back(std::move(f));
}

} // namespace

const std::vector<double>& latency_buckets() {
  static const std::vector<double> b{
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
  return b;
}

const std::vector<double>& batch_size_buckets() {
  static const std::vector<double> b{1,  2,   4,   8,   16,  32,
                                     64, 128, 256, 512, 1024};
  return b;
}

void histogram_delta::observe(const std::vector<double>& bounds, double value) {
  if (counts.empty())
    counts.assign(bounds.size() + 1, 0);
  auto i = static_cast<size_t>(
      std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  counts[i] += 1;
  sum += value;
  ++n;
}

void request_recorder::record(const std::string& model, uint8_t code,
                              const timings& t, bool ran) {
  auto& m = models_[model];
  ++m.codes[code == 0 ? "ok" : to_string(static_cast<errc>(code))];
  auto& b = latency_buckets();
  m.total.observe(b, t.total_us / 1e6);
  if (ran) {
    m.queue.observe(b, t.queue_us / 1e6);
    m.infer.observe(b, t.infer_us / 1e6);
  }
}

process_usage read_process_usage() {
  process_usage u;
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    u.cpu_seconds =
        static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
        static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::ifstream in{"/proc/self/statm"};
  uint64_t size = 0;
  uint64_t resident = 0;
  if (in >> size >> resident)
    u.rss_bytes = resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return u;
}

void count_supervisor_restart() {
  restarts_counter.fetch_add(1, std::memory_order_relaxed);
}

uint64_t supervisor_restarts() {
  return restarts_counter.load(std::memory_order_relaxed);
}

metrics_hub::metrics_hub()
    : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("dine_requests_total")
                   .Help("Infer requests answered, by model and outcome code "
                         "(ok or the error's name)")
                   .Register(*registry_);
  total_ = &prometheus::BuildHistogram()
                .Name("dine_request_duration_seconds")
                .Help("Accepted by the coordinator until the final reply was "
                      "built, every answered request")
                .Register(*registry_);
  queue_ = &prometheus::BuildHistogram()
                .Name("dine_queue_duration_seconds")
                .Help("Time in the batcher's queue, requests a worker ran")
                .Register(*registry_);
  infer_ = &prometheus::BuildHistogram()
                .Name("dine_infer_duration_seconds")
                .Help("Model invocation on the worker, requests a worker ran")
                .Register(*registry_);
}

metrics_hub::model_series& metrics_hub::series(const std::string& model) {
  auto i = models_.find(model);
  if (i != models_.end())
    return i->second;
  auto& s = models_[model];
  auto& b = latency_buckets();
  s.total = &total_->Add({{"model", model}}, b);
  s.queue = &queue_->Add({{"model", model}}, b);
  s.infer = &infer_->Add({{"model", model}}, b);
  return s;
}

void metrics_hub::fold(request_recorder& rec) {
  if (rec.empty())
    return;
  auto models = rec.take();
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [model, m] : models) {
    auto& s = series(model);
    for (auto& [code, n] : m.codes) {
      auto& c = s.codes[code];
      if (c == nullptr)
        c = &requests_->Add({{"model", model}, {"code", code}});
      c->Increment(static_cast<double>(n));
    }
    auto put = [](prometheus::Histogram* h, histogram_delta& d) {
      if (d.n > 0)
        h->ObserveMultiple(d.counts, d.sum);
    };
    put(s.total, m.total);
    put(s.queue, m.queue);
    put(s.infer, m.infer);
  }
}

void metrics_hub::set_cluster(const cluster_stats& cs, uint64_t inflight,
                              const cache_stats* cache) {
  std::lock_guard<std::mutex> guard{mtx_};
  cluster_ = cs;
  inflight_ = inflight;
  has_cache_ = cache != nullptr;
  if (cache != nullptr)
    cache_ = *cache;
}

void metrics_hub::set_log_dropped(uint64_t n) {
  std::lock_guard<std::mutex> guard{mtx_};
  log_dropped_ = n;
}

std::vector<MetricFamily> metrics_hub::Collect() const {
  auto usage = read_process_usage();
  std::lock_guard<std::mutex> guard{mtx_};
  auto out = registry_->Collect();
  const auto C = MetricType::Counter;
  const auto G = MetricType::Gauge;
  auto one = [&](std::string name, std::string help, MetricType type,
                 double value) {
    auto f = family(std::move(name), std::move(help), type);
    f.metric.push_back(sample({}, value, type));
    out.push_back(std::move(f));
  };
  one("dine_requests_in_flight", "Accepted requests awaiting their reply", G,
      static_cast<double>(inflight_));
  one("dine_process_cpu_seconds_total", "CPU time of this process", C,
      usage.cpu_seconds);
  one("dine_process_resident_memory_bytes", "Resident memory of this process",
      G, static_cast<double>(usage.rss_bytes));
  one("dine_supervisor_restarts_total",
      "Children restarted by supervisors of this process", C,
      static_cast<double>(supervisor_restarts()));
  one("dine_log_dropped_total",
      "Log lines dropped because the log queue was full", C,
      static_cast<double>(log_dropped_));
  if (has_cache_) {
    one("dine_cache_hits_total", "Response cache hits (memory and disk)", C,
        static_cast<double>(cache_.hits));
    one("dine_cache_misses_total", "Response cache misses", C,
        static_cast<double>(cache_.misses));
    one("dine_cache_evictions_total", "Entries evicted from the memory tier", C,
        static_cast<double>(cache_.evictions));
    one("dine_cache_entries", "Entries in the memory tier", G,
        static_cast<double>(cache_.entries));
  }
  // Per model: queue depth and batch sizes, summed over the model's
  // batchers (versions, shards).
  auto depth = family("dine_queue_depth",
                      "Requests waiting in the model's batcher queues", G);
  auto sizes = family("dine_batch_size", "Requests per batch sent to workers",
                      MetricType::Histogram);
  std::vector<std::string> names;
  for (auto& b : cluster_.batchers)
    if (std::find(names.begin(), names.end(), b.model) == names.end() &&
        !b.model.empty())
      names.push_back(b.model);
  auto& bounds = batch_size_buckets();
  for (auto& model : names) {
    uint64_t queued = 0;
    ClientMetric h;
    h.label = {{"model", model}};
    std::vector<uint64_t> per_bucket(bounds.size() + 1, 0);
    for (auto& b : cluster_.batchers) {
      if (b.model != model)
        continue;
      queued += b.queued;
      for (size_t i = 0; i < b.size_histogram.size(); ++i) {
        auto n = b.size_histogram[i];
        auto size = static_cast<double>(i + 1);
        auto k = static_cast<size_t>(
            std::lower_bound(bounds.begin(), bounds.end(), size) -
            bounds.begin());
        per_bucket[k] += n;
        h.histogram.sample_count += n;
        h.histogram.sample_sum += size * static_cast<double>(n);
      }
    }
    uint64_t cum = 0;
    for (size_t k = 0; k <= bounds.size(); ++k) {
      cum += per_bucket[k];
      ClientMetric::Bucket bk;
      bk.cumulative_count = cum;
      bk.upper_bound = k < bounds.size()
                           ? bounds[k]
                           : std::numeric_limits<double>::infinity();
      h.histogram.bucket.push_back(bk);
    }
    sizes.metric.push_back(std::move(h));
    depth.metric.push_back(
        sample({{"model", model}}, static_cast<double>(queued), G));
  }
  out.push_back(std::move(depth));
  out.push_back(std::move(sizes));
  per_worker(out, cluster_, "dine_worker_up",
             "1 while the worker is registered and not ejected", G,
             [](const worker_stats& w) { return w.ejected ? 0.0 : 1.0; });
  per_worker(
      out, cluster_, "dine_worker_ejections_total",
      "Times the outlier detector ejected the worker", C,
      [](const worker_stats& w) { return static_cast<double>(w.ejections); });
  per_worker(
      out, cluster_, "dine_worker_batches_total", "Batches the worker answered",
      C, [](const worker_stats& w) { return static_cast<double>(w.batches); });
  per_worker(out, cluster_, "dine_worker_batch_failures_total",
             "Batches lost to worker failures", C, [](const worker_stats& w) {
               return static_cast<double>(w.failures);
             });
  per_worker(
      out, cluster_, "dine_worker_batches_in_flight",
      "Batches sent to the worker and not answered yet", G,
      [](const worker_stats& w) { return static_cast<double>(w.outstanding); });
  per_worker(out, cluster_, "dine_worker_kv_blocks_used",
             "KV cache blocks in use (generative models)", G,
             [](const worker_stats& w) {
               return static_cast<double>(w.kv_blocks_used);
             });
  per_worker(out, cluster_, "dine_worker_kv_blocks",
             "KV cache blocks in the pool (generative models)", G,
             [](const worker_stats& w) {
               return static_cast<double>(w.kv_blocks_total);
             });
  per_worker(out, cluster_, "dine_worker_cpu_seconds_total",
             "CPU time of the worker's process, from its heartbeats (0 for "
             "workers inside this process)",
             C, [](const worker_stats& w) {
               return static_cast<double>(w.cpu_us) / 1e6;
             });
  per_worker(
      out, cluster_, "dine_worker_resident_memory_bytes",
      "Resident memory of the worker's process, from its heartbeats", G,
      [](const worker_stats& w) { return static_cast<double>(w.rss_bytes); });
  per_worker(
      out, cluster_, "dine_worker_supervisor_restarts_total",
      "Supervisor restarts in the worker's process, from its "
      "heartbeats",
      C, [](const worker_stats& w) { return static_cast<double>(w.restarts); });
  return out;
}

std::string metrics_hub::prometheus_text() const {
  return prometheus::TextSerializer{}.Serialize(Collect());
}

} // namespace dine
