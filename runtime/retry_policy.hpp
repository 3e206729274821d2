#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "messages/errc.hpp"
#include "runtime/retry_budget.hpp"

namespace dine {

/// What becomes of one request of a batch its worker lost (crashed, went
/// down, timed out, failed the whole batch).
enum class retry_verdict : uint8_t {
  /// Dispatched again at once, to another worker if the strategy can.
  retry,
  /// Its first chunks reached the client: running it again would send
  /// them twice, so it ends with `worker_lost`.
  streamed,
  /// It was sent more than `max_retries` times: `worker_failed`.
  out_of_attempts,
  /// Retries are over their share of the traffic (the fleet is failing):
  /// `worker_failed`.
  out_of_budget,
};

/// Returns the name of `x`, e.g. `"out_of_budget"`.
const char* to_string(retry_verdict x);

/// The batcher's retry and give-up decisions for requests of lost
/// batches (docs/design.md, "Failure handling"). A retry is not delayed:
/// the request goes back to the front of the queue and the next batch
/// takes it, on another worker when the balancing strategy can. Give-up is
/// per request (`max_retries` re-dispatches after its first attempt) and
/// for the pool (a `retry_budget`: retries within a share of the first
/// attempts, refilled once a second). Time is passed in by the caller.
class retry_policy {
public:
  using clock_type = std::chrono::steady_clock;

  using time_point = clock_type::time_point;

  /// How often `tick` refills the budget.
  static constexpr std::chrono::seconds refill_interval{1};

  explicit retry_policy(uint32_t max_retries = 2,
                        retry_budget budget = retry_budget{});

  /// A request is sent for the first time: it funds later retries.
  void on_first_attempt() { budget_.deposit(); }

  /// Decides about a request of a lost batch that was sent `attempts`
  /// times and has `streamed` chunks to its client; a `retry` withdraws
  /// from the budget.
  retry_verdict decide(uint32_t attempts, bool streamed);

  /// Refills the budget if `refill_interval` passed since the last refill.
  void tick(time_point now);

  /// The error code of a verdict other than `retry`.
  static errc code(retry_verdict x);

  /// The error message of a verdict other than `retry`: `why` the batch
  /// was lost plus the reason for giving up.
  static std::string message(retry_verdict x, const std::string& why,
                             uint32_t attempts);

  /// Re-dispatches allowed per request after its first attempt.
  uint32_t max_retries() const noexcept { return max_retries_; }

  /// The pool's retry budget.
  const retry_budget& budget() const noexcept { return budget_; }

private:
  uint32_t max_retries_;
  retry_budget budget_;
  time_point refilled_;
};

} // namespace dine
