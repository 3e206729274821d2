#pragma once

// The [node] section and the whole configuration of a `dine-node`: its key
// table, the config file reader and the command line (docs/operations.md).
// Includes run one way: this header includes the sections it holds
// (model_config, routing_config, cache_config), never the reverse.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/cache_config.hpp"
#include "runtime/config_option.hpp"
#include "runtime/etcd_client.hpp"
#include "runtime/model_config.hpp"
#include "runtime/routing_config.hpp"
#include "runtime/security_config.hpp"

namespace dine {

/// The HTTP front door (docs/http.md); off unless `http-port` is given.
struct http_settings {
  bool enabled = false;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  uint32_t max_connections = 1024;
  uint32_t max_body_bytes = 1u << 20;
  uint32_t max_header_bytes = 16u << 10;
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds job_ttl{300000}; ///< Async results are kept.
  uint32_t max_jobs = 10000;                 ///< Async jobs held at once.
  /// Models `/health/ready` needs a healthy worker for; empty: the models
  /// the config file defines (not the built-in ones).
  std::vector<std::string> ready_models;
};

/// Everything a `dine-node` process needs to know, after the config file
/// and the command line were read and validated.
struct node_config {
  bool coordinator = true; ///< Runs coordinator, router, batchers.
  bool worker = true;      ///< Runs a worker subtree.
  std::string listen_host = "127.0.0.1"; ///< Cluster (middleman) endpoint.
  uint16_t listen_port = 7401;
  std::string client_host = "127.0.0.1"; ///< Client protocol endpoint.
  uint16_t client_port = 7400;
  std::string join_host; ///< Coordinator to join (workers).
  uint16_t join_port = 0;
  /// High availability on etcd (docs/design.md, "Coordinator high
  /// availability"): coordinators campaign, workers follow the leader.
  std::vector<etcd_endpoint> etcd; ///< Empty: no etcd.
  std::string cluster = "dine";    ///< Keys live under /dine/NAME/.
  std::chrono::seconds etcd_lease_ttl{3};
  std::chrono::milliseconds etcd_poll{200};    ///< Standby/worker polls.
  std::chrono::milliseconds etcd_timeout{500}; ///< Per call and endpoint.
  std::vector<std::string> models{"echo", "cost", "sleep"}; ///< Served.
  std::string name;           ///< Worker name; default host:pid.
  uint32_t local_workers = 1; ///< Workers inside a `--role=all` node.
  uint32_t capacity = 4;      ///< Batches in flight per worker.
  uint32_t max_frame = 16u << 20;
  uint32_t max_inflight_per_connection = 4096;
  /// Client connections in total and from one address (0 = no limit).
  uint32_t max_connections = 10000;
  uint32_t max_connections_per_address = 0;
  /// Node-wide bound of buffered client bytes (0 = none; docs/security.md).
  uint64_t memory_budget = 1ull << 30;
  /// Slow clients (docs/security.md): a TLS handshake on the client and
  /// HTTPS ports, and one client-port frame from first to last byte.
  std::chrono::milliseconds client_handshake_timeout{10000};
  std::chrono::milliseconds client_frame_timeout{30000};
  /// Memory kept after a burst (docs/security.md): RSS sampling interval
  /// of the heap trimmer (0 = off) and glibc's arena cap (0 = default).
  std::chrono::milliseconds heap_trim_interval{1000};
  uint32_t malloc_arena_max = 0;
  /// `ROLE KEY` lines; empty: no API keys (docs/security.md).
  std::string api_keys_file;
  /// Largest BASP payload read from another node (docs/security.md).
  uint32_t max_node_frame = 16u << 20;
  uint32_t max_retries = 2; ///< Re-dispatches of a failed batch.
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds heartbeat_interval{250};
  std::chrono::milliseconds connection_timeout{2000};
  std::chrono::milliseconds reconnect_max{2000};  ///< Worker backoff cap.
  std::chrono::milliseconds drain_timeout{10000}; ///< SIGTERM drain bound.
  std::string scheduler_policy = "sharing";
  uint32_t threads = 2;
  std::string ready_file; ///< Written with the bound ports when ready.
  // Telemetry (docs/operations.md, "Metrics" and "Request logs").
  bool metrics = false;                   ///< `metrics-port` given.
  std::string metrics_host = "127.0.0.1"; ///< Metrics endpoint address.
  uint16_t metrics_port = 0;              ///< 0 = any free port.
  double trace_sample = 0;                ///< Share of ok requests logged.
  std::string log_level = "info";         ///< error | warn | info | debug
  std::string log_format = "text";        ///< text | json
  bool cache_role = false; ///< Serves a shared cache actor on `listen`.
  /// `--role=preproc` / `postproc`: a worker that serves the pool stages
  /// (`NAME@pre` / `NAME@post`) of the models' pipelines instead of models
  /// (runtime/stage_models.hpp).
  bool preproc_role = false;
  bool postproc_role = false;
  cache_settings cache;                            ///< The response cache.
  std::map<std::string, model_config> model_table; ///< Known models.
  routing_config routing; ///< Balancing, health, static membership.
  http_settings http;     ///< The HTTP front door.
  /// Whether the `fault` op is accepted (`--enable-fault-injection`).
  bool fault_injection = false;
  /// Mutual TLS, the cluster token, `--insecure` (docs/security.md).
  security_settings security;
  bool help = false;
  bool check = false; ///< `--check`: validate, print, exit.
};

/// Renders the effective configuration in the config file format.
std::string to_config_text(const node_config& cfg);

/// The one table of the [node] section: its own rows, then the routing,
/// generative shorthand and cache rows lifted into it.
const config_table<node_config>& node_options();

/// Reads `--config=FILE` (if given), then applies every other flag on top.
/// Validates every key: an unknown key or a bad value is an error naming
/// the key, the value and where it came from.
caf::expected<node_config> load_config(const std::vector<std::string>& args);

/// Parses the text of a config file (`origin` names it in errors) into
/// `cfg`, on top of what `cfg` holds.
caf::error apply_config_text(node_config& cfg, const std::string& text,
                             const std::string& origin);

/// Sets one key (file name of the key, e.g. `client-port` or
/// `model.cost.fixed-us`) to `value`, validating it.
caf::error apply_option(node_config& cfg, const std::string& key,
                        const std::string& value, const std::string& origin);

/// Checks cross-key constraints (e.g. a worker-only node needs `join`).
caf::error validate(const node_config& cfg);

/// The usage text of `dine-node`, listing every option.
std::string usage();

} // namespace dine
