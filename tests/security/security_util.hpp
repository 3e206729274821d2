#pragma once

// Helpers shared by the security tests (on top of the cluster harness).

#include <chrono>
#include <string>
#include <thread>

#include "../cluster/harness.hpp"

namespace dine::test {

/// Polls `stats` until `n` workers are registered (at most `timeout`).
inline bool wait_worker_count(uint16_t port, size_t n,
                              std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (op(port, op_code::stats)["workers"].size() == n)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return false;
}

/// Runs `count` echo-like requests of `model` and checks that every one
/// was answered ok (by `worker`, unless empty).
inline void check_serves(uint16_t client_port, const std::string& model,
                         size_t count, const std::string& worker = {}) {
  auto res =
      run_load(client_port, model, count, 2, 8, std::chrono::seconds{10});
  CHECK(res.error.empty());
  REQUIRE(res.replies.size() == count);
  for (auto& [id, rs] : res.replies) {
    CHECK(rs.front().code == 0);
    if (!worker.empty())
      CHECK(rs.front().worker == worker);
  }
}

} // namespace dine::test
