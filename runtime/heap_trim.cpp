#include "runtime/heap_trim.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace dine {

bool trim_policy::sample(uint64_t rss) noexcept {
  if (floor_ == UINT64_MAX || rss < floor_)
    floor_ = rss; // start, or the system took pages back by itself
  if (rss > peak_) {
    peak_ = rss;
    still_ = 0;
    return false; // still growing: the burst goes on
  }
  if (still_ < quiet_)
    ++still_;
  return still_ >= quiet_ && peak_ >= floor_ + threshold_;
}

uint64_t current_rss() {
  auto* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr)
    return 0;
  unsigned long size = 0;
  unsigned long resident = 0;
  auto n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2)
    return 0;
  return static_cast<uint64_t>(resident) *
         static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

bool limit_arenas(uint32_t n) {
  if (n == 0)
    return true;
  return ::mallopt(M_ARENA_MAX, static_cast<int>(n)) == 1;
}

heap_trimmer::heap_trimmer(std::chrono::milliseconds interval,
                           uint64_t threshold, uint32_t quiet)
    : interval_(interval), policy_(threshold, quiet) {
  thread_ = std::thread{[this] { run(); }};
}

heap_trimmer::~heap_trimmer() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void heap_trimmer::run() {
  std::unique_lock<std::mutex> guard{mtx_};
  while (!cv_.wait_for(guard, interval_, [this] { return stop_; })) {
    if (!policy_.sample(current_rss()))
      continue;
    auto before = current_rss();
    ::malloc_trim(0);
    auto after = current_rss();
    policy_.trimmed(after);
    ++trims_;
    std::cout << "dine-node: heap trimmed after a burst: RSS " << (before >> 20)
              << " MiB -> " << (after >> 20) << " MiB" << std::endl;
  }
}

} // namespace dine
