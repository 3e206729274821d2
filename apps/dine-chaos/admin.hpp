#pragma once

// Admin requests of `fault` and `op` steps: one request on a fresh client
// connection, built from JSON so that ops the runtime's `op_code` does not
// know yet can be sent as well.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dine::chaos {

/// Sends `{"id": 1, "op": op, "inputs": inputs}` (no `inputs` when null)
/// to `addr` (HOST:PORT) and waits up to `timeout` for the reply. Returns
/// "" and the reply's `outputs` in `out` when it is ok, else what failed
/// (for an error reply: its code and message).
std::string admin_request(const std::string& addr, const std::string& op,
                          const nlohmann::json& inputs,
                          std::chrono::milliseconds timeout,
                          nlohmann::json& out);

/// Builds the `inputs` of a `fault` request from a step's key/value text:
/// `rate` becomes a number, `count` and `slow_ms` unsigned integers, the
/// rest strings.
nlohmann::json
fault_inputs(const std::vector<std::pair<std::string, std::string>>& params);

} // namespace dine::chaos
