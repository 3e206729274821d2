#pragma once

// Helpers shared by the security tests (on top of the cluster harness).

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

#include "../cluster/harness.hpp"

namespace dine::test {

/// A value in kB from /proc/PID/status (VmRSS, VmHWM); 0 if absent.
inline uint64_t status_kb(pid_t pid, const std::string& key) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, key.size() + 1, key + ":") == 0)
      return std::stoull(line.substr(key.size() + 1));
  return 0;
}

/// Hex to bytes (the forged BASP headers of the node-port tests).
inline std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

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
