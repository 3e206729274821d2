#pragma once

// A bounded log queue drained by its own thread (docs/operations.md,
// "Request logs"): `push` never waits for the output. When the queue is
// full the line is dropped and counted (`dine_log_dropped_total`).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace dine {

/// Severity of a log line; lines above the sink's level are not logged.
enum class log_level : uint8_t { error, warn, info, debug };

/// Parses `error`, `warn`, `info` or `debug` (anything else: info).
log_level log_level_from(const std::string& name);

/// Returns the name of `x`.
const char* to_string(log_level x);

/// Writes whole lines to a file descriptor from a thread of its own.
class log_sink {
public:
  /// Writes to `fd` (not closed here); at most `capacity` lines wait.
  log_sink(int fd, log_level level, size_t capacity = 4096);

  /// Writes what is queued, then stops the thread.
  ~log_sink();

  log_sink(const log_sink&) = delete;
  log_sink& operator=(const log_sink&) = delete;

  /// Whether a line of `level` would be logged.
  bool enabled(log_level level) const { return level <= level_; }

  /// Queues `line` (without its newline). Returns false (and counts a
  /// drop) when the queue is full.
  bool push(std::string line);

  /// Lines dropped so far.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  /// Blocks until every line queued before the call was written (tests,
  /// shutdown). Not for the request path.
  void flush();

private:
  void run();

  int fd_;
  log_level level_;
  size_t capacity_;
  std::mutex mtx_;
  std::condition_variable wake_;
  std::condition_variable written_;
  std::deque<std::string> queue_;
  uint64_t queued_ = 0;    ///< Lines accepted so far.
  uint64_t written_n_ = 0; ///< Lines written so far.
  bool stop_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

} // namespace dine
