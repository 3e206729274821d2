#pragma once

// model_session: one instance of one model on a worker.
//
// Interface: `session_actor`. Runs each batch through its `model_backend`
// in one `run` call and returns one result per item, in order. The model's
// co-located (@worker) pipeline steps run here, before and after `run`
// (runtime/colocated_steps.hpp); its @pool steps run in the preproc and
// postproc pools, which serve them as stage models (backend `stage`).
// Generative models run in gen_session instead.
// Simulated device time (the `sleep` model) is waited without blocking a
// thread: the result is held and delivered by a timer.
// Supervised by: its worker_supervisor (monitored; restarted on crash).
// Monitors: nothing.
// On failure: an exception from the backend fails the whole batch with
// per-item `internal` errors; the session keeps serving. Fault hooks
// (messages/fault.hpp), decided by its worker_supervisor, make it crash,
// hang, fail or slow down on purpose.

#include <caf/typed_event_based_actor.hpp>

#include "runtime/colocated_steps.hpp"
#include "runtime/model_backend.hpp"
#include <memory>
#include <unordered_map>

#include "messages/interfaces.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// State of a model session.
struct session_state {
  std::unique_ptr<model_backend> backend;
  colocated_steps steps; ///< The model's @worker pipeline steps.
  std::string worker_name;
  uint64_t next_seq = 1;
  std::unordered_map<
      uint64_t,
      std::pair<caf::typed_response_promise<batch_result>, batch_result>>
      held;
  /// Promises of batches a `hang` fault swallowed: never delivered.
  std::vector<caf::typed_response_promise<batch_result>> hung;
  fault_kind armed = fault_kind::off; ///< Fault for the next batch.
  uint32_t armed_slow_ms = 0;

  static inline const char* name = "dine.model_session";
};

/// Behavior of a model session.
session_actor::behavior_type
model_session(session_actor::stateful_pointer<struct session_state> self,
              model_config model, std::string worker_name);

} // namespace dine
