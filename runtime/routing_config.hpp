#pragma once

// Configuration of routing, sharding, balancing and health (issue 4): the
// node keys and per-model keys docs/routing.md describes. `node_config`
// holds a `routing_config`, `model_config` a `model_routing`; the option
// tables live here so that node_config.cpp only forwards to them.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>

#include "runtime/hash_ring.hpp"
#include "runtime/outlier_detector.hpp"

namespace dine {

struct model_config;
struct node_config;

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

/// Returns whether `key` is a node key of this table.
bool is_routing_key(const std::string& key);

/// Sets node key `key` to `value`; the error names key, value and origin.
caf::error apply_routing_option(node_config& cfg, const std::string& key,
                                const std::string& value,
                                const std::string& origin);

/// Returns whether `sub` (the KEY of `model.NAME.KEY`) is a per-model key
/// of this table.
bool is_model_routing_key(const std::string& sub);

/// Sets per-model key `sub` of `m`; `key` is the full key for errors.
caf::error apply_model_routing_option(model_config& m, const std::string& sub,
                                      const std::string& key,
                                      const std::string& value,
                                      const std::string& origin);

/// Checks the routing keys of `cfg` across keys (strategies, schemas,
/// outlier limits).
caf::error validate_routing(const node_config& cfg);

/// Renders the node keys of this table as `\nkey = value` lines.
std::string routing_node_text(const node_config& cfg);

/// Renders the per-model keys of `m` as `\nkey = value` lines.
std::string routing_model_text(const model_config& m);

/// Usage lines of the node keys and of the per-model keys.
std::string routing_node_usage();
std::string routing_model_usage();

} // namespace dine
