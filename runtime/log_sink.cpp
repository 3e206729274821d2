#include "runtime/log_sink.hpp"

#include <unistd.h>

#include <cerrno>

namespace dine {

log_level log_level_from(const std::string& name) {
  if (name == "error")
    return log_level::error;
  if (name == "warn")
    return log_level::warn;
  if (name == "debug")
    return log_level::debug;
  return log_level::info;
}

const char* to_string(log_level x) {
  switch (x) {
  case log_level::error:
    return "error";
  case log_level::warn:
    return "warn";
  case log_level::info:
    return "info";
  case log_level::debug:
    return "debug";
  }
  return "info";
}

log_sink::log_sink(int fd, log_level level, size_t capacity)
    : fd_(fd), level_(level), capacity_(capacity) {
  thread_ = std::thread{[this] { run(); }};
}

log_sink::~log_sink() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

bool log_sink::push(std::string line) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (queue_.size() >= capacity_ || stop_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    line += '\n';
    queue_.push_back(std::move(line));
    ++queued_;
  }
  wake_.notify_one();
  return true;
}

void log_sink::flush() {
  std::unique_lock<std::mutex> guard{mtx_};
  auto target = queued_;
  written_.wait(guard, [&] { return written_n_ >= target; });
}

void log_sink::run() {
  std::deque<std::string> batch;
  std::unique_lock<std::mutex> guard{mtx_};
  for (;;) {
    wake_.wait(guard, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_)
      return;
    batch.swap(queue_);
    guard.unlock();
    std::string out;
    for (auto& l : batch)
      out += l;
    auto n = batch.size();
    batch.clear();
    // Outside the lock: a slow terminal or pipe delays only this thread.
    size_t done = 0;
    while (done < out.size()) {
      auto w = ::write(fd_, out.data() + done, out.size() - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        break; // the output is gone: lines are lost, the node goes on
      done += static_cast<size_t>(w);
    }
    guard.lock();
    written_n_ += n;
    written_.notify_all();
  }
}

} // namespace dine
