#pragma once

// worker_supervisor: the root of a worker's subtree and the worker's batch
// entry point.
//
// Interface: `worker_actor`. Starts one model_session (gen_session for a
// generative backend) per served model; `run_batch` (the handler of
// `batch`) hands each batch to the session of its model, answering the
// batcher itself; a gen_session's stream chunks
// come back here and go on to the batcher of their request (the path of
// the results, so chunks never overtake them), `cancel` goes to the
// session: a session that crashes on a batch yields a batch-level
// `worker_failed` (the batcher retries elsewhere); batches arriving while
// a session restarts wait for it; once the supervisor gave up on a model,
// its batches get a batch-level `unavailable` (the batcher drops this worker
// from that model's pool). Fault hooks are decided here, batch by batch, so
// their counts survive session restarts.
// Supervised by: the node.
// Monitors: its sessions. A crashed session is restarted after a backoff
// (10 ms, doubling per restart while earlier restarts are still in the
// window); more than `max_restarts` crashes within `window` make the
// supervisor give up on that model and answer its batches with
// `unavailable`. Both are decided by runtime/session_restarts.hpp (a
// supervisor_policy and a backoff per model). A session that fails to start
// with `invalid_config` (bad model files) is not restarted: the supervisor logs
// the reason and gives up on that model at once.

#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>

#include "messages/interfaces.hpp"
#include "runtime/fault_hook.hpp"
#include "runtime/node_config.hpp"
#include "runtime/session_restarts.hpp"

namespace dine {

/// State of a worker supervisor.
struct worker_supervisor_state {
  /// A batch waiting for its session to come back from a restart.
  struct held_batch {
    batch b;
    caf::typed_response_promise<batch_result> rp;
    caf::strong_actor_ptr from; ///< The batcher that sent it.
  };

  struct child {
    session_actor hdl;
    model_config model;
    session_restarts restarts; ///< Restart delays and give-up.
    bool given_up = false;
    /// Why the model cannot start (a bad checkpoint, say): its batches'
    /// `unavailable` says so. Empty after crashes.
    std::string start_error;
    bool generative = false;     ///< A gen_session (streams, cancel).
    fault_hook fault;            ///< Survives restarts of the session.
    std::deque<held_batch> held; ///< Arrived while restarting.
  };

  std::string worker_name;
  std::map<std::string, child> sessions;
  heartbeat counters;
  uint64_t inflight = 0; ///< Batches handed to sessions, not answered.
  std::set<caf::actor_addr> linked; ///< Sessions whose exit_msg is due.
  /// Streamed requests in flight: the batcher their chunks go to.
  std::unordered_map<uint64_t, caf::strong_actor_ptr> streams;
  size_t max_restarts = 5;
  std::chrono::seconds window{10};
  /// Delay before the first restart of a window; doubles per restart.
  std::chrono::milliseconds first_restart_delay{10};

  static inline const char* name = "dine.worker_supervisor";
};

/// Behavior of a worker supervisor serving `cfg.models` as `name`.
worker_actor::behavior_type worker_supervisor(
    worker_actor::stateful_pointer<struct worker_supervisor_state> self,
    node_config cfg, std::string name);

/// Returns the registration record of a worker serving `cfg.models`.
worker_info make_worker_info(const node_config& cfg, const std::string& name);

} // namespace dine
