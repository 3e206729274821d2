#include "runtime/backends/step_pool.hpp"

namespace dine {

step_pool::step_pool(int32_t threads) {
  for (int32_t t = 1; t < threads; ++t)
    helpers_.emplace_back([this, t] { work(t); });
}

step_pool::~step_pool() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : helpers_)
    t.join();
}

void step_pool::run(int32_t n,
                    const std::function<void(int32_t, int32_t)>& fn) {
  if (helpers_.empty() || n <= 1) {
    for (int32_t i = 0; i < n; ++i)
      fn(i, 0);
    return;
  }
  std::unique_lock<std::mutex> lock{mtx_};
  fn_ = &fn;
  n_ = n;
  next_ = 0;
  pending_ = static_cast<int32_t>(helpers_.size());
  ++generation_;
  lock.unlock();
  wake_.notify_all();
  for (;;) {
    lock.lock();
    int32_t i = next_ < n_ ? next_++ : n_;
    lock.unlock();
    if (i >= n)
      break;
    fn(i, 0);
  }
  lock.lock();
  done_.wait(lock, [this] { return pending_ == 0; });
  fn_ = nullptr;
}

void step_pool::work(int32_t tid) {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_)
      return;
    seen = generation_;
    while (next_ < n_) {
      int32_t i = next_++;
      lock.unlock();
      (*fn_)(i, tid);
      lock.lock();
    }
    if (--pending_ == 0)
      done_.notify_one();
  }
}

} // namespace dine
