#pragma once

// Drives real dine-node processes for the cluster tests: starts them on
// free loopback ports (port 0 + a ready file), kills them, and cleans up
// every process it started, also when a test fails.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/client.hpp"

namespace dine::test {

/// A scratch directory, removed with its contents on destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

/// One dine-node child process.
class node_process {
public:
  /// Starts `dine-node args...` and waits (up to `timeout`) until it wrote
  /// its ready file. Throws std::runtime_error with the node's log if not.
  node_process(const std::string& dir, const std::string& name,
               std::vector<std::string> args,
               std::chrono::milliseconds timeout = std::chrono::seconds{15});

  /// SIGKILLs the process if still running and reaps it.
  ~node_process();

  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  /// Sends `sig` to the process.
  void signal(int sig);

  /// SIGKILLs and reaps the process.
  void kill_now();

  /// Waits up to `timeout` for the process to exit; returns its exit
  /// status (as from waitpid) or -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout);

  pid_t pid() const { return pid_; }
  const nlohmann::json& ready() const { return ready_; }
  uint16_t client_port() const { return ready_.value("client_port", 0); }
  uint16_t cluster_port() const { return ready_.value("cluster_port", 0); }
  std::string log() const;

private:
  pid_t pid_ = -1;
  std::string log_path_;
  nlohmann::json ready_;
};

/// Path of a built executable (dine-node, dine-client, dine-bench).
std::string bin(const std::string& name);

/// Result of a pipelined load run.
struct load_result {
  std::map<uint64_t, std::vector<client_reply>> replies; ///< By id.
  size_t sent = 0;
  size_t duplicates = 0; ///< Replies beyond the first for an id.
  size_t unknown = 0;    ///< Replies for ids never sent.
  std::string error;     ///< Connection-level failure, if any.
};

/// Sends `count` infer requests for `model` over `conns` connections with
/// `depth` in flight each; request i carries inputs {"i": i} and id i+1,
/// and `cache: false`, so every request reaches a worker.
/// Waits up to `timeout` for all replies. Then it keeps reading for a
/// quiet period longer than the deadline (`deadline_ms` + 250 ms; 250 ms
/// without a deadline), so that a late second reply is seen and counted
/// in `duplicates`: nothing the node still holds may answer after it.
load_result run_load(uint16_t port, const std::string& model, size_t count,
                     size_t conns, size_t depth,
                     std::chrono::milliseconds timeout,
                     uint32_t deadline_ms = 0);

/// Sends one request and returns its reply (throws on transport errors).
client_reply call(uint16_t port, const client_request& req,
                  std::chrono::milliseconds timeout = std::chrono::seconds{10});

/// Returns the `outputs` of an op (`stats`, `models`, `health`) as JSON.
nlohmann::json op(uint16_t port, op_code which);

/// Polls `stats` until the coordinator holds exactly `n` requests in
/// flight; returns false if it did not within `timeout`.
bool wait_inflight(uint16_t port, uint64_t n,
                   std::chrono::milliseconds timeout = std::chrono::seconds{5});

/// msgpack bytes of {"i": i}.
std::vector<uint8_t> inputs_for(uint64_t i);

} // namespace dine::test
