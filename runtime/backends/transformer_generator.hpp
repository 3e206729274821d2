#pragma once

// transformer_generator: the `generator` of backend `transformer`.
//
// Interface: runtime/backends/generator.hpp (add, cancel, step, stats).
// Owner: one model session actor calls it, step by step; it owns no
// thread (OpenBLAS may use its own threads inside one step).
// Failure: bad files fail `make`; bad inputs fail `add`; a sequence that
// finds no KV blocks by its deadline ends with `overloaded`.

#include <deque>
#include <memory>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/backends/checkpoint.hpp"
#include "runtime/backends/gemm.hpp"
#include "runtime/backends/gen_request.hpp"
#include "runtime/backends/generator.hpp"
#include "runtime/backends/kv_pool.hpp"
#include "runtime/backends/sampler.hpp"
#include "runtime/backends/text_stream.hpp"
#include "runtime/backends/tokenizer.hpp"
#include "runtime/backends/transformer.hpp"

namespace dine {

/// Tuning knobs the benchmark varies; the defaults are what nodes run.
struct transformer_options {
  gemm_kernel kernel = gemm_kernel::blocked;
  int32_t threads = 1;          ///< Threads of one step (model key `threads`).
  uint32_t max_step_rows = 512; ///< Prompt tokens per step (chunking).
};

/// Continuous batching over a transformer (docs/design.md): a FIFO of
/// waiting sequences, admitted between steps when their worst-case KV
/// blocks can be reserved; each step runs one forward pass over the next
/// token of every running sequence plus prompt chunks of new ones.
class transformer_generator : public generator {
public:
  /// Opens the checkpoint and tokenizer `cfg` names and sizes the KV pool.
  static caf::expected<std::unique_ptr<transformer_generator>>
  make(const model_config& cfg, transformer_options opts = {});

  ~transformer_generator() override;

  caf::error add(uint64_t seq, const std::vector<uint8_t>& inputs,
                 clock::time_point wait_until) override;
  void cancel(uint64_t seq) override;
  bool busy() const override;
  void step(std::vector<gen_event>& out) override;
  gen_stats stats() const override;

  const model_shape& shape() const { return cp_.shape(); }
  const tokenizer& vocab() const { return tok_; }

private:
  struct sequence;

  transformer_generator(checkpoint cp, tokenizer tok,
                        std::unique_ptr<kv_pool> pool, uint32_t max_running,
                        transformer_options opts);

  /// Admits waiting sequences in order while blocks can be reserved;
  /// expires those past their deadline.
  void admit(std::vector<gen_event>& out);

  /// Ends the waiting sequences whose wait ran out by `now` (overloaded).
  void expire_waiting(clock::time_point now, std::vector<gen_event>& out);

  /// Takes the token sampled for `s`; returns false when `s` ended.
  bool advance(sequence& s, int32_t token, std::vector<gen_event>& out);

  /// Emits the last event of `s` and frees its blocks.
  void finish(sequence& s, finish_reason why, std::vector<gen_event>& out,
              std::vector<int32_t> last_tokens = {});

  void release(sequence& s);

  checkpoint cp_;
  tokenizer tok_;
  std::unique_ptr<kv_pool> pool_;
  std::unique_ptr<transformer> model_;
  uint32_t max_running_;
  transformer_options opts_;
  std::deque<std::unique_ptr<sequence>> waiting_;
  std::vector<std::unique_ptr<sequence>> running_;
  std::vector<gen_event> pending_; ///< Events of sequences cancelled waiting.
  std::vector<fwd_row> rows_;      ///< Scratch of `step`.
  std::vector<float> logits_;
};

} // namespace dine
