#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dine {

/// The threads of one transformer step: `run` splits a loop over the
/// calling thread and `threads - 1` helpers and returns when all of it ran.
/// Idle helpers sleep on a condition variable (no spinning: on a machine
/// whose cores are busy, spinning helpers measured 3x slower than one
/// thread; docs/design.md, "Transformer backend").
class step_pool {
public:
  explicit step_pool(int32_t threads);
  ~step_pool();

  step_pool(const step_pool&) = delete;
  step_pool& operator=(const step_pool&) = delete;

  /// Threads that run a loop, the caller included.
  int32_t size() const { return static_cast<int32_t>(helpers_.size()) + 1; }

  /// Calls fn(i, thread) for every i in [0, n), thread in [0, size()).
  void run(int32_t n, const std::function<void(int32_t, int32_t)>& fn);

private:
  void work(int32_t tid);

  std::mutex mtx_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> helpers_;
  const std::function<void(int32_t, int32_t)>* fn_ = nullptr;
  int32_t n_ = 0;
  int32_t next_ = 0;    ///< Next index to hand out (guarded by mtx_).
  int32_t pending_ = 0; ///< Helpers still in the current loop.
  uint64_t generation_ = 0;
  bool stop_ = false;
};

} // namespace dine
