#pragma once

// Builds the msgpack `outputs` of the admin ops `health`, `models` and
// `stats` (docs/protocol.md lists their fields).

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "messages/cache.hpp"
#include "messages/cluster.hpp"
#include "messages/errc.hpp"
#include "messages/fault.hpp"

#include "runtime/error_ring.hpp"
#include "runtime/latency_window.hpp"
#include "runtime/leader_gate.hpp"
#include "runtime/node_config.hpp"
#include <caf/expected.hpp>

namespace dine {

/// The coordinator's own request counters.
struct request_counters {
  uint64_t accepted = 0; ///< Requests taken into the in-flight table.
  uint64_t ok = 0;       ///< Replies with results.
  std::array<uint64_t, 32> errors{}; ///< Error replies by `errc`.
  uint64_t late = 0;      ///< Results dropped: their request was answered.
  uint64_t inflight = 0;  ///< Requests awaiting their reply now.
  uint64_t cached = 0;    ///< Answered from the cache.
  uint64_t coalesced = 0; ///< Answered with an identical request's result.
  /// Dropped unrun: their connection had closed (runtime/closed_conns.hpp).
  uint64_t orphaned = 0;

  void count_error(errc code) {
    auto i = static_cast<size_t>(code);
    ++errors[i < errors.size() ? i : static_cast<size_t>(errc::internal)];
  }
};

/// The front door's recent window: per-model throughput and latency and the
/// latest errors (runtime/latency_window.hpp, runtime/error_ring.hpp).
struct window_stats {
  uint64_t bucket_ms = 0;  ///< Width of a series bucket.
  uint64_t summary_ms = 0; ///< Span of `rps`, `p50_us`, `p99_us`.
  std::vector<latency_window::model_view> models;
  std::vector<error_ring::entry> recent_errors;
};

/// `{"status": "ok", "workers": N, "models": [names]}`; with `leadership`
/// (a coordinator of an etcd cluster) also `"leader"` (bool), `"etcd"`
/// (`"ok"` or `"unreachable"`), `"leader_info"` (the leader key's JSON
/// value, `""` if unknown) and `"etcd_error"` (`""` while reachable).
std::vector<uint8_t> encode_health(const cluster_stats& cs,
                                   const leader_status* leadership = nullptr);

/// `{"models": [{"name", "version", "backend", "max_batch_size",
/// "max_delay_us", "workers": [names]}]}`.
std::vector<uint8_t>
encode_models(const cluster_stats& cs,
              const std::map<std::string, model_config>& table);

/// `{"models": [{"name", "version" (the default), "versions", "backend",
/// "max_batch_size", "max_delay_us", "workers", "shards", "shard_mode",
/// "shard_workers" ([shard] = [names]), "balance", "fallback", "schema",
/// "schema_keys", "batchable", "quantized", "cacheable", "timeout_ms"}]}`:
/// the router's model registry (`encode_models` uses it when present).
std::vector<uint8_t> encode_model_registry(const std::vector<model_info>& ms);

/// Decodes the `inputs` of a `fault` op: `{"model", "kind", "rate",
/// "count", "slow_ms", "worker"}` (see docs/operations.md).
caf::expected<fault_spec> decode_fault_spec(const std::vector<uint8_t>& in);

/// `{"workers": [names]}`.
std::vector<uint8_t> encode_workers(const std::vector<std::string>& names);

/// `{"requests": {...}, "workers": [...], "batchers": [...]}`, with
/// `"cache"` if `cache` is given and `"window"`, `"models"` and
/// `"recent_errors"` if `ws` is.
std::vector<uint8_t> encode_stats(const cluster_stats& cs,
                                  const request_counters& rc,
                                  const cache_stats* cache = nullptr,
                                  const window_stats* ws = nullptr);

} // namespace dine
