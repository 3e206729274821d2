#include "runtime/retry_policy.hpp"

namespace dine {

const char* to_string(retry_verdict x) {
  switch (x) {
  case retry_verdict::retry:
    return "retry";
  case retry_verdict::streamed:
    return "streamed";
  case retry_verdict::out_of_attempts:
    return "out_of_attempts";
  case retry_verdict::out_of_budget:
    return "out_of_budget";
  }
  return "?";
}

retry_policy::retry_policy(uint32_t max_retries, retry_budget budget)
    : max_retries_(max_retries), budget_(budget) {
  // nop
}

retry_verdict retry_policy::decide(uint32_t attempts, bool streamed) {
  if (streamed)
    return retry_verdict::streamed;
  if (attempts > max_retries_)
    return retry_verdict::out_of_attempts;
  if (!budget_.try_withdraw())
    return retry_verdict::out_of_budget;
  return retry_verdict::retry;
}

void retry_policy::tick(time_point now) {
  if (now - refilled_ < refill_interval)
    return;
  budget_.refill();
  refilled_ = now;
}

errc retry_policy::code(retry_verdict x) {
  return x == retry_verdict::streamed ? errc::worker_lost : errc::worker_failed;
}

std::string retry_policy::message(retry_verdict x, const std::string& why,
                                  uint32_t attempts) {
  switch (x) {
  case retry_verdict::streamed:
    return why + " after streaming began";
  case retry_verdict::out_of_attempts:
    return why + " (after " + std::to_string(attempts) + " attempts)";
  case retry_verdict::out_of_budget:
    return why + " (retry budget exhausted)";
  case retry_verdict::retry:
    break;
  }
  return why;
}

} // namespace dine
