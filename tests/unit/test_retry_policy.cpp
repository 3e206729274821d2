// retry_policy: the batcher's retry and give-up for lost batches.

#include <doctest/doctest.h>

#include "runtime/retry_policy.hpp"

using namespace dine;
using namespace std::chrono_literals;

TEST_CASE("a lost request is retried until it was sent max_retries + 1 times") {
  retry_policy p{2, retry_budget{0.2, 100}};
  CHECK(p.decide(1, false) == retry_verdict::retry);
  CHECK(p.decide(2, false) == retry_verdict::retry);
  CHECK(p.decide(3, false) == retry_verdict::out_of_attempts);
  CHECK(retry_policy::code(retry_verdict::out_of_attempts) ==
        errc::worker_failed);
  CHECK(retry_policy::message(retry_verdict::out_of_attempts, "worker down",
                              3) == "worker down (after 3 attempts)");
}

TEST_CASE("a request that streamed is never retried: worker_lost") {
  retry_policy p{2, retry_budget{0.2, 100}};
  auto tokens = p.budget().tokens();
  CHECK(p.decide(1, true) == retry_verdict::streamed);
  CHECK(p.budget().tokens() == tokens); // nothing withdrawn
  CHECK(retry_policy::code(retry_verdict::streamed) == errc::worker_lost);
  CHECK(retry_policy::message(retry_verdict::streamed, "worker down", 1) ==
        "worker down after streaming began");
}

TEST_CASE("retries beyond the budget give up until the refill") {
  retry_policy p{5, retry_budget{0.5, 2}};
  auto t0 = retry_policy::clock_type::time_point{} + 10s;
  p.tick(t0);
  CHECK(p.decide(1, false) == retry_verdict::retry);
  CHECK(p.decide(1, false) == retry_verdict::retry);
  CHECK(p.decide(1, false) == retry_verdict::out_of_budget);
  CHECK(retry_policy::message(retry_verdict::out_of_budget, "timed out", 1) ==
        "timed out (retry budget exhausted)");
  // First attempts fund retries: two of them pay for one.
  p.on_first_attempt();
  p.on_first_attempt();
  CHECK(p.decide(1, false) == retry_verdict::retry);
  CHECK(p.decide(1, false) == retry_verdict::out_of_budget);
  // Less than a second later: no refill yet.
  p.tick(t0 + 999ms);
  CHECK(p.decide(1, false) == retry_verdict::out_of_budget);
  p.tick(t0 + 1s);
  CHECK(p.decide(1, false) == retry_verdict::retry);
  CHECK(p.decide(1, false) == retry_verdict::retry);
  CHECK(p.decide(1, false) == retry_verdict::out_of_budget);
}

TEST_CASE("max_retries 0 gives up after the first attempt") {
  retry_policy p{0};
  CHECK(p.max_retries() == 0);
  CHECK(p.decide(1, false) == retry_verdict::out_of_attempts);
  CHECK(std::string{to_string(retry_verdict::out_of_attempts)} ==
        "out_of_attempts");
}
