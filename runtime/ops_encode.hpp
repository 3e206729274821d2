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

  void count_error(errc code) {
    auto i = static_cast<size_t>(code);
    ++errors[i < errors.size() ? i : static_cast<size_t>(errc::internal)];
  }
};

/// `{"status": "ok", "workers": N, "models": [names]}`.
std::vector<uint8_t> encode_health(const cluster_stats& cs);

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

/// `{"requests": {...}, "workers": [...], "batchers": [...]}`.
std::vector<uint8_t> encode_stats(const cluster_stats& cs,
                                  const request_counters& rc,
                                  const cache_stats* cache = nullptr);

} // namespace dine
