#pragma once

// Configuration of routing, sharding, balancing and health (issue 4): the
// node keys and per-model keys docs/routing.md describes. `node_config`
// holds a `routing_config`, `model_config` a `model_routing`; their key
// tables live here and are lifted into the [node] and [model.NAME] tables
// (runtime/config_option.hpp).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>

#include "runtime/config_option.hpp"
#include "runtime/hash_ring.hpp"
#include "runtime/outlier_detector.hpp"

namespace dine {

/// What the router does when every worker of a request's shard is gone.
enum class fallback_mode : uint8_t {
  /// Route to a shard of the same model and version that has workers.
  any,
  /// Answer `unavailable` at once.
  none,
};

/// Returns `any` or `none`.
const char* to_string(fallback_mode x);

/// The top-level type a model's inputs must have.
enum class schema_type : uint8_t {
  any,
  map,
  array,
  str,
  int_,
  float_,
  bool_,
  bin
};

/// Returns the config name of `x` (`any`, `map`, `array`, `str`, `int`,
/// `float`, `bool`, `bin`).
const char* to_string(schema_type x);

/// Parses a config name of a `schema_type`; false for unknown names.
bool from_string(const std::string& name, schema_type& out);

/// Per-model routing keys (`model.NAME.KEY`).
struct model_routing {
  uint32_t shards = 1;                ///< `shards`: shard count.
  shard_mode mode = shard_mode::ring; ///< `shard-mode`: ring | modulo.
  std::string balance;                ///< `balance`; empty: node default.
  fallback_mode fallback = fallback_mode::any; ///< `fallback`.
  schema_type schema = schema_type::any;       ///< `schema`.
  std::vector<std::string> schema_keys; ///< `schema-keys`: required keys.
  bool quantized = false;               ///< `quantized` (informational).
  /// `timeout-ms`: deadline of requests that set none; 0 = node default.
  std::chrono::milliseconds timeout{0};
};

/// Node-level routing keys.
struct routing_config {
  /// `balance`: strategy of every model without `model.NAME.balance`.
  std::string balance = "round_robin";
  /// `missed-heartbeats`: heartbeat intervals a remote worker may stay
  /// silent before the router removes it; 0 = never.
  uint32_t missed_heartbeats = 4;
  /// `outlier-*`: ejection of failing workers, per batcher.
  outlier_config outlier;
  /// `shards` (worker): shard indices it serves; empty = all shards.
  std::vector<uint32_t> served_shards;
  /// `worker` (repeatable) / `workers` (list): static workers a
  /// coordinator connects to.
  std::vector<std::pair<std::string, uint16_t>> static_workers;
  /// Set when `listen` was given: a worker-only node without `join`
  /// then publishes itself there (static membership).
  bool listen_given = false;
};

/// The node routing keys, held in `node_config::routing`.
const config_table<routing_config>& routing_options();

/// The per-model routing keys, held in `model_config::routing`.
const config_table<model_routing>& model_routing_options();

/// Checks the node routing keys across keys (outlier limits).
caf::error validate_routing(const routing_config& r);

/// Checks the routing keys of model `name` across keys (strategy, schema).
caf::error validate_model_routing(const std::string& name,
                                  const model_routing& r);

} // namespace dine
