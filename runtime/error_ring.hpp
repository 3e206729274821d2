#pragma once

// The most recent error replies of a front door, for the `stats` op and the
// dashboard (docs/protocol.md, "Admin ops"). A bounded ring: the oldest
// entry goes when a new one comes; messages are cut to `max_message`
// bytes, so a client's long model name cannot grow it. Each entry has a
// sequence number (1, 2, ...) so that a reader polling it can tell new
// entries from those it has shown.

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace dine {

class error_ring {
public:
  /// One error reply.
  struct entry {
    uint64_t seq = 0;     ///< 1 for the first error recorded, then 2, ...
    uint64_t time_ms = 0; ///< Wall-clock time, ms since the Unix epoch.
    std::string model;    ///< May be empty (a request that did not parse).
    std::string code;     ///< `errc` name, e.g. `deadline_exceeded`.
    std::string message;
  };

  /// Longest model name and message kept, in bytes.
  static constexpr size_t max_message = 200;
  static constexpr size_t max_model = 64;

  explicit error_ring(size_t capacity = 50);

  /// Records an error reply at `time_ms`.
  void add(uint64_t time_ms, const std::string& model, std::string code,
           const std::string& message);

  /// Returns the entries held, oldest first.
  std::vector<entry> recent() const { return {ring_.begin(), ring_.end()}; }

  /// Returns how many errors were recorded in all.
  uint64_t total() const noexcept { return next_seq_ - 1; }

  size_t capacity() const noexcept { return capacity_; }

private:
  size_t capacity_;
  uint64_t next_seq_ = 1;
  std::deque<entry> ring_;
};

} // namespace dine
