#pragma once

// The per-request decisions a front door makes when it accepts an `infer`
// request (docs/design.md, "The path of a request"): its deadline, whether
// its result may be cached and coalesced, and the model version its cache
// key names. Plain data in, plain data out: the coordinator calls it, and an
// HTTP front door can call it the same way.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/client.hpp"
#include "messages/cluster.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// What `admission_policy::admit` decided for one request.
struct admission {
  using clock = std::chrono::steady_clock;

  /// The request's deadline: its own `deadline_ms`, else the model's
  /// `timeout-ms`, else the node's `request-timeout-ms`.
  std::chrono::milliseconds timeout{0};
  clock::time_point deadline;
  /// Cache and coalescing key; empty: the request is neither cached nor
  /// coalesced.
  std::string key;
  uint32_t key_version = 0; ///< The model version `key` names.
  uint32_t ttl_ms = 0;      ///< Cache TTL of the result (0: cache default).
};

/// Decides deadline and cacheability of accepted requests.
class admission_policy {
public:
  admission_policy() = default;

  /// Takes the node's default timeout and model table.
  explicit admission_policy(const node_config& cfg);

  /// Sets the versions a request without one runs on (from the router).
  void set_default_versions(const std::vector<model_version>& vs);

  /// Returns the version a request for `model` without a version runs on
  /// now (0: unknown).
  uint32_t default_version(const std::string& model) const;

  /// Decides for `r`, accepted at `now`. Cacheable: the request allows it
  /// (`cache`), the model allows it (`cacheable`), it is not streamed, and
  /// for a generative model it is greedy (`temperature` absent or 0).
  admission admit(const client_request& r,
                  admission::clock::time_point now) const;

private:
  std::chrono::milliseconds request_timeout_{10000};
  std::map<std::string, model_config> models_;
  std::unordered_map<std::string, uint32_t> default_versions_;
};

/// Returns whether the msgpack map `inputs` asks for greedy decoding: no
/// `temperature` key, or a numeric temperature of 0. Anything else
/// (sampling, a malformed value) is not greedy.
bool greedy_inputs(const std::vector<uint8_t>& inputs);

} // namespace dine
