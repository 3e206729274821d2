#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "runtime/backoff.hpp"
#include "runtime/supervisor_policy.hpp"

namespace dine {

/// The restart decisions for the session of one model on a worker
/// (docs/design.md, "Failure handling"): a crashed session is restarted
/// after a delay that starts at `first_delay` and doubles per restart while
/// earlier restarts are still in the window (runtime/backoff.hpp); more than
/// `max_restarts` crashes within `window` give up on the model (the restart
/// intensity of a one_for_one `supervisor_policy` over that one session).
/// Time is passed in by the caller.
class session_restarts {
public:
  using clock_type = supervisor_policy::clock_type;

  using time_point = supervisor_policy::time_point;

  using duration = backoff::duration;

  explicit session_restarts(
      size_t max_restarts = 5,
      std::chrono::steady_clock::duration window = std::chrono::seconds{10},
      duration first_delay = duration{10});

  /// The session crashed at `now`: returns the delay before its restart,
  /// or `nullopt` if the worker gives up on the model.
  std::optional<duration> on_crash(time_point now);

  /// Starts over with no restart counted (a model given up on is revived).
  void reset();

  /// Crashes within `window()` that are restarted; one more gives up.
  size_t max_restarts() const noexcept { return policy_.flags().intensity; }

  /// Length of the sliding window of `max_restarts`.
  std::chrono::steady_clock::duration window() const noexcept {
    return policy_.flags().period;
  }

private:
  supervisor_policy fresh_policy() const;

  size_t max_restarts_;
  std::chrono::steady_clock::duration window_;
  duration first_delay_;
  supervisor_policy policy_;
  backoff delay_;
};

} // namespace dine
