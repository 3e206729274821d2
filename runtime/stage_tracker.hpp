#pragma once

// Where each request of a model with pool stages is, at the coordinator:
// preproc pool -> model -> postproc pool (docs/design.md, "Pre- and
// post-processing pipelines"). A stage is a model of its own
// (`NAME@pre`, `NAME@post`, runtime/stage_models.hpp), so each hop is an
// ordinary routed request with the same internal id; this class decides
// what the next hop is and makes the final reply carry the model's trip
// (worker, batch, infer time, version) and the stage marks. Models without
// pool stages never enter it: `active()` is false when no model has any.
// With `pool-fallback`, a pool stage that no process could take (see
// `falls_back`) is run once more as `NAME@pre-fallback` /
// `NAME@post-fallback` on a model worker, from the same inputs.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

#include "messages/client.hpp"
#include "runtime/model_config.hpp"

namespace dine {

class stage_tracker {
public:
  enum class phase : uint8_t { pre, model, post };

  stage_tracker() = default;

  /// Learns which models of `table` have preproc / postproc pool stages.
  explicit stage_tracker(const std::map<std::string, model_config>& table);

  /// Returns whether any model has a pool stage.
  bool active() const noexcept { return !plans_.empty(); }

  /// Requests being tracked.
  size_t size() const noexcept { return reqs_.size(); }

  /// Takes a fresh request `r` (its id the internal one) before it is
  /// routed: if its model has pool stages, tracks it, and if a preproc
  /// stage comes first, points `r` at it (model `NAME@pre`).
  void enter(client_request& r);

  /// Takes the result `r` of request `r.id`. Returns true if the request
  /// moves on: `next` is the request for the next hop (its inputs the
  /// outputs of this one; `remaining` its deadline). Returns false if `r`
  /// is the final reply (also for untracked ids): for a tracked request,
  /// it then carries the model's worker, batch, version, infer time and
  /// trip marks, the stage marks, and a stage error names the stage. A
  /// streamed request skips the postproc stage (its chunks went out).
  /// `mark` is now (runtime/stage_times.hpp).
  bool advance(client_reply& r, bool stream,
               std::chrono::milliseconds remaining, int64_t mark,
               client_request& next);

  /// Whether a pool stage's error `code` means no pool process could take
  /// the request (unknown_model, unavailable, overloaded, worker_failed),
  /// so a model with `pool-fallback` runs the stage on a model worker. A
  /// step's own verdict (invalid_input) and a passed deadline are final.
  static bool falls_back(uint8_t code) noexcept;

  /// Stops tracking `rid` (answered another way: deadline, cancel).
  void forget(uint64_t rid) {
    if (!reqs_.empty())
      reqs_.erase(rid);
  }

private:
  struct plan {
    bool pre = false;
    bool post = false;
    bool fallback = false; ///< `pool-fallback`
  };

  struct tracked {
    client_request req; ///< The request as accepted, without inputs.
    phase at = phase::model;
    bool post = false;      ///< A postproc stage follows the model.
    bool fallback = false;  ///< A failed pool stage may run on a worker.
    bool fell_back = false; ///< This stage is the fallback already.
    /// With `fallback`: the inputs of the current pool stage, for a rerun.
    std::vector<uint8_t> stage_inputs;
    int64_t pre_end = 0;
    int64_t post_begin = 0;
    // The model's trip, kept while the postproc stage runs.
    int64_t sent = 0;
    int64_t received = 0;
    uint32_t infer_us = 0;
    uint32_t batch = 0;
    uint32_t version = 0;
    std::string worker;
  };

  /// The request for the next hop of `t`, to `model`.
  static client_request hop(const tracked& t, const std::string& model,
                            std::vector<uint8_t>&& inputs,
                            std::chrono::milliseconds remaining);

  std::unordered_map<std::string, plan> plans_;
  std::unordered_map<uint64_t, tracked> reqs_;
};

} // namespace dine
