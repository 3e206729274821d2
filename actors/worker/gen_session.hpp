#pragma once

// gen_session: one instance of one generative model on a worker.
//
// Interface: `session_actor`, like model_session. Each item of a batch
// becomes a sequence of its `generator` (runtime/backends/generator.hpp);
// the session steps as a message loop (one self-sent `step` per decode step
// while busy), so new batches and `cancel` are seen between steps and a
// long generation never holds up others (continuous batching). After each
// step the chunks of streamed items go to the worker_supervisor as one
// `std::vector<stream_chunk>` (it forwards them to the batchers, on the same
// path as the results, so a stream's last chunk always precedes its
// result); a batch's result is delivered once all its sequences ended.
// Supervised by: its worker_supervisor (monitored; restarted on crash).
// Monitors: nothing.
// On failure: an exception from the generator fails every sequence in
// flight with per-item `internal` errors. Fault hooks: `crash` and `error`
// act on the next batch as in model_session; `hang` swallows it.

#include <caf/typed_event_based_actor.hpp>

#include <memory>
#include <unordered_map>

#include "messages/interfaces.hpp"
#include "runtime/backends/generator.hpp"
#include "runtime/colocated_steps.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// State of a generative model session.
struct gen_session_state {
  using clock = std::chrono::steady_clock;

  /// A sequence in the generator.
  struct sequence {
    uint64_t key = 0; ///< Of its batch here (batch ids are per batcher).
    uint64_t bid = 0; ///< Its batcher's batch id.
    size_t index = 0; ///< In its batch.
    bool stream = false;
  };

  /// A batch whose sequences have not all ended.
  struct pending {
    caf::typed_response_promise<batch_result> rp;
    batch_result res;
    size_t left = 0;
    clock::time_point start;
  };

  std::unique_ptr<generator> gen;
  /// The model's @worker pipeline steps: preprocessing before a request
  /// joins, postprocessing of a non-streamed result.
  colocated_steps steps;
  worker_actor parent;
  std::string worker_name;
  std::unordered_map<uint64_t, sequence> seqs;   ///< By rid.
  std::unordered_map<uint64_t, pending> batches; ///< By key.
  uint64_t next_key = 1;
  bool stepping = false; ///< A `step` message is on its way.
  std::vector<caf::typed_response_promise<batch_result>> hung;
  fault_kind armed = fault_kind::off;

  static inline const char* name = "dine.gen_session";
};

/// Behavior of a generative model session; chunks go to `parent`.
session_actor::behavior_type
gen_session(session_actor::stateful_pointer<gen_session_state> self,
            model_config model, std::string worker_name, worker_actor parent);

} // namespace dine
