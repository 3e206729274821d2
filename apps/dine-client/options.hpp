#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/client.hpp"
#include "runtime/tls_context.hpp"

namespace dine::client {

/// Command line of dine-client.
struct options {
  std::string host; ///< The first `--connect` address.
  uint16_t port = 0;
  /// Every `--connect` address (comma-separated or repeated): with more
  /// than one, the client fails over (docs/protocol.md).
  std::vector<std::string> addrs;
  op_code op = op_code::infer;
  std::string model;
  std::optional<nlohmann::json> inputs; ///< Parsed `--inputs`.
  std::string key;
  uint32_t version = 0;
  uint32_t deadline_ms = 0;
  int32_t priority = 0;
  bool cache = true;
  bool stream = false; ///< `--stream`: print chunks as they come.
  uint64_t target = 0; ///< `--target`: the request id `--op=cancel` ends.
  double timeout_s = 10;
  std::string api_key;  ///< `--api-key` or $DINE_API_KEY: sent in `hello`.
  bool tls = false;     ///< `--tls` (or `--ca`): TLS to the client port.
  std::string ca;       ///< `--ca`: the CA file; empty: the system's.
  std::string tls_name; ///< `--tls-name`: required certificate name.
  tls_context tls_ctx;  ///< Made from the three after parsing.
  std::string file;     ///< `--file`: one JSON request object per line.
  size_t pipeline = 16;
  bool help = false;
};

/// The `--help` text.
extern const char* usage;

/// Parses the command line into `out`. Returns an empty string on success,
/// else a message naming the bad flag or value.
std::string parse_options(int argc, char** argv, options& out);

/// Parses an op name; returns false for unknown names.
bool parse_op(const std::string& name, op_code& out);

} // namespace dine::client
