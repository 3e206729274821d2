#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "messages/client.hpp"
#include "runtime/tls_context.hpp"

namespace dine::bench {

/// Command line of dine-bench.
struct options {
  std::string host;
  uint16_t port = 0;
  op_code op = op_code::infer;
  std::string model;
  size_t connections = 8;
  size_t depth = 32;         ///< Requests in flight per connection.
  bool depth_set = false;    ///< `--depth` was given.
  double rate = 0;           ///< Open loop: requests/s offered; 0 = closed.
  uint64_t seed = 1;         ///< Seeds the open loop's arrival times.
  uint64_t requests = 0;     ///< Stop after this many (0: use duration).
  double duration_s = 0;     ///< Stop sending after this long.
  size_t payload_bytes = 64; ///< Approximate request body size.
  std::string inputs_json;   ///< `--inputs`: overrides the padding.
  uint64_t warmup = 0;       ///< Requests before measuring.
  size_t key_spread = 0;     ///< Keys "k<i mod N>"; 0 = no key.
  bool cache = true;
  uint32_t deadline_ms = 0;
  double timeout_s = 10; ///< Requests older than this are lost.
  std::string api_key;   ///< `--api-key` or $DINE_API_KEY: sent in `hello`.
  bool tls = false;      ///< `--tls` (or `--ca`): TLS to the client port.
  std::string ca;        ///< `--ca`: the CA file; empty: the system's.
  std::string tls_name;  ///< `--tls-name`: required certificate name.
  tls_context tls_ctx;   ///< Made from the three after parsing.
  bool json = false;
  bool stages = false;     ///< `--stages`: decode each reply's server timings.
  uint32_t max_tokens = 0; ///< `--max-tokens`: generation mode when > 0.
  bool stream = false;     ///< `--stream`: streamed generations.
  std::string prompt = "Once upon a time"; ///< `--prompt`.
  bool help = false;
};

/// The `--help` text.
extern const char* usage;

/// Parses the command line into `out`. Returns an empty string on success,
/// else a message naming the bad flag or value.
std::string parse_options(int argc, char** argv, options& out);

} // namespace dine::bench
