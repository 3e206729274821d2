#pragma once

// A local one-member etcd for the cluster tests: `etcd` (Debian's
// etcd-server) on free loopback ports with a scratch data directory,
// stopped (SIGKILL) and reaped on destruction.

#include <sys/types.h>

#include <string>

namespace dine::test {

/// One etcd server process.
class etcd_process {
public:
  /// Starts etcd with its data in `dir` and waits (up to 20 s) until it
  /// answers. Throws std::runtime_error with its log if it does not.
  explicit etcd_process(const std::string& dir);

  ~etcd_process();

  etcd_process(const etcd_process&) = delete;
  etcd_process& operator=(const etcd_process&) = delete;

  /// `127.0.0.1:PORT` of its client URL.
  std::string endpoint() const;

  /// SIGKILLs and reaps it (etcd down).
  void kill_now();

  std::string log() const;

private:
  pid_t pid_ = -1;
  uint16_t client_port_ = 0;
  std::string log_path_;
};

/// A loopback TCP port that was free a moment ago.
uint16_t free_port();

} // namespace dine::test
