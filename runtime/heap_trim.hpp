#pragma once

// heap_trim: gives memory the allocator keeps back to the system once the
// node goes quiet after a burst (docs/security.md, "Memory kept after a
// flood"). glibc keeps freed pages in its arenas (measured: about half of
// the RSS left after a client-port flood); `malloc_trim(0)` returns them.
// `trim_policy` decides when, from RSS samples (unit-tested on injected
// samples); `heap_trimmer` is a thread that samples /proc/self/statm every
// interval and trims when the policy says so. Nothing runs per request.
// Also `limit_arenas` (mallopt M_ARENA_MAX) at start-up.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace dine {

/// When to trim: RSS grew `threshold` bytes above what it was after the
/// last trim (or at start), and has not grown for `quiet` samples in a row
/// (the burst is over). A node whose RSS stays high without growing is
/// trimmed once, not on every sample.
class trim_policy {
public:
  trim_policy(uint64_t threshold, uint32_t quiet)
      : threshold_(threshold), quiet_(quiet) {
    // nop
  }

  /// A sample of the RSS in bytes; returns whether to trim now.
  bool sample(uint64_t rss) noexcept;

  /// After a trim: `rss` is the new baseline.
  void trimmed(uint64_t rss) noexcept {
    floor_ = rss;
    peak_ = rss;
    still_ = 0;
  }

  /// Returns the baseline (RSS after the last trim, or the lowest seen).
  uint64_t floor() const noexcept { return floor_; }

private:
  uint64_t threshold_;
  uint32_t quiet_;
  uint64_t floor_ = UINT64_MAX;
  uint64_t peak_ = 0;  ///< Highest sample since the last growth.
  uint32_t still_ = 0; ///< Samples in a row without growth.
};

/// The RSS of this process in bytes (/proc/self/statm), 0 if unknown.
uint64_t current_rss();

/// Caps glibc's malloc arenas at `n` (0: leave glibc's default, 8 per
/// core). Returns false if mallopt refused.
bool limit_arenas(uint32_t n);

/// A thread that samples the RSS every `interval` and calls
/// `malloc_trim(0)` when `trim_policy` says so. Stops in its destructor.
class heap_trimmer {
public:
  heap_trimmer(std::chrono::milliseconds interval, uint64_t threshold,
               uint32_t quiet);
  ~heap_trimmer();

  heap_trimmer(const heap_trimmer&) = delete;
  heap_trimmer& operator=(const heap_trimmer&) = delete;

  /// Trims done so far.
  uint64_t trims() const noexcept { return trims_; }

private:
  void run();

  std::chrono::milliseconds interval_;
  trim_policy policy_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
  uint64_t trims_ = 0;
  std::thread thread_;
};

} // namespace dine
