#pragma once

// Helpers shared by the security tests (on top of the cluster harness).

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

#include "../cluster/harness.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"

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

/// An `echo` request of `text` (a msgpack fixstr: < 32 bytes), uncached.
inline client_request echo(uint64_t id, const std::string& text) {
  client_request req;
  req.id = id;
  req.model = "echo";
  req.cache = false;
  req.inputs = {static_cast<uint8_t>(0xa0 | text.size())};
  req.inputs.insert(req.inputs.end(), text.begin(), text.end());
  return req;
}

/// Sends `req` on `conn` and reads one reply within `timeout` each way
/// (code 255: a transport error, named in `message`).
inline client_reply ask(client_conn& conn, const client_request& req,
                        std::chrono::seconds timeout = std::chrono::seconds{
                            20}) {
  std::vector<char> buf;
  append_request(buf, req);
  client_reply rep;
  rep.code = 255;
  if (!conn.send_frames(buf, timeout).empty())
    return rep;
  if (auto err = conn.read_reply(rep, timeout); !err.empty()) {
    rep.code = 255;
    rep.message = err;
  }
  return rep;
}

} // namespace dine::test
