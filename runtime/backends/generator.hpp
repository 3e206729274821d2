#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace dine {

struct model_config;

/// Why a generated sequence ended.
enum class finish_reason : uint8_t {
  none,      ///< Still running.
  stop,      ///< End-of-sequence token or a `stop` string.
  length,    ///< `max_tokens` or the context window reached.
  cancelled, ///< `cancel` was called.
  error,     ///< Failed: `code` and `message` say why.
};

/// Returns the wire name of `x`: "stop", "length", "cancelled", ...
const char* to_string(finish_reason x);

/// What one step produced for one sequence.
struct gen_event {
  uint64_t seq = 0;            ///< The id given to `generator::add`.
  std::vector<int32_t> tokens; ///< Token ids produced by this step.
  /// Their text, always valid UTF-8: an incomplete multi-byte sequence is
  /// held back until it completes; invalid bytes become U+FFFD.
  std::string text;
  bool done = false;                          ///< Last event of this sequence.
  finish_reason reason = finish_reason::none; ///< Set when `done`.
  uint8_t code = 0; ///< An `errc` when reason == error (e.g. overloaded).
  std::string message;
  /// When `done` and not failed: the final outputs, a msgpack map with
  /// `text`, `tokens`, `finish_reason`, `usage` {prompt_tokens,
  /// completion_tokens} (docs/protocol.md).
  std::vector<uint8_t> outputs;
};

/// Occupancy of a generator, for `stats`.
struct gen_stats {
  uint64_t kv_blocks_total = 0;
  uint64_t kv_blocks_used = 0;
  uint64_t kv_bytes_per_block = 0;
  uint32_t running = 0; ///< Sequences in the running batch.
  uint32_t waiting = 0; ///< Admitted, waiting for KV blocks.
};

/// A generative model with iteration-level (continuous) batching:
/// sequences join and leave between steps; one `step` computes the next
/// token of every running sequence. Not thread-safe; one owner calls it.
class generator {
public:
  using clock = std::chrono::steady_clock;

  virtual ~generator();

  /// Validates a request's inputs (raw msgpack map: `prompt` or `tokens`,
  /// `max_tokens`, `temperature`, `top_p`, `seed`, `stop`) and queues the
  /// sequence `seq`. Bad inputs return `errc::invalid_input` naming the
  /// field or limit, and nothing is queued. A queued sequence that has no
  /// KV blocks by `wait_until` ends with `errc::overloaded`.
  virtual caf::error add(uint64_t seq, const std::vector<uint8_t>& inputs,
                         clock::time_point wait_until) = 0;

  /// Ends `seq` at the next step with `finish_reason::cancelled`, freeing
  /// its KV blocks. Unknown ids are ignored.
  virtual void cancel(uint64_t seq) = 0;

  /// Returns whether a `step` would do anything (sequences running or
  /// waiting, or events pending).
  virtual bool busy() const = 0;

  /// Admits waiting sequences that fit, runs one decode step (prefill for
  /// new ones) and appends one event per sequence that produced a token or
  /// ended. Never blocks for longer than one step.
  virtual void step(std::vector<gen_event>& out) = 0;

  virtual gen_stats stats() const = 0;
};

/// Creates the generator of a generative backend (`cfg.backend`), or an
/// error naming the file and the problem (bad checkpoint, tokenizer
/// mismatch, ...). Returns `errc::invalid_config` for a non-generative
/// backend.
caf::expected<std::unique_ptr<generator>>
make_generator(const model_config& cfg);

/// Returns whether `backend` names a generative backend.
bool is_generative(const std::string& backend);

} // namespace dine
