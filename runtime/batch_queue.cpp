#include "runtime/batch_queue.hpp"

#include <algorithm>

namespace dine {

batch_queue::batch_queue(batch_limits limits) : limits_(std::move(limits)) {
  if (!limits_.batchable || limits_.max_batch_size == 0)
    limits_.max_batch_size = 1;
  auto& ps = limits_.preferred_sizes;
  ps.erase(std::remove_if(ps.begin(), ps.end(),
                          [&](uint32_t x) {
                            return x == 0 || x > limits_.max_batch_size;
                          }),
           ps.end());
  std::sort(ps.begin(), ps.end(), std::greater<uint32_t>());
}

bool batch_queue::push(entry& e) {
  if (size_ >= limits_.max_queue)
    return false;
  lanes_[e.req.priority].push_back(std::move(e));
  ++size_;
  return true;
}

void batch_queue::push_front(std::vector<entry>&& es) {
  for (auto i = es.rbegin(); i != es.rend(); ++i) {
    lanes_[i->req.priority].push_front(std::move(*i));
    ++size_;
  }
}

std::vector<batch_queue::entry> batch_queue::expire(time_point now) {
  std::vector<entry> out;
  if (size_ == 0 || earliest_deadline() > now)
    return out;
  for (auto l = lanes_.begin(); l != lanes_.end();) {
    auto& q = l->second;
    auto keep = std::stable_partition(
        q.begin(), q.end(), [&](const entry& e) { return e.deadline > now; });
    for (auto i = keep; i != q.end(); ++i)
      out.push_back(std::move(*i));
    size_ -= static_cast<size_t>(q.end() - keep);
    q.erase(keep, q.end());
    l = q.empty() && l->first != 0 ? lanes_.erase(l) : std::next(l);
  }
  return out;
}

size_t batch_queue::ready(time_point now, bool slot_free) const {
  if (size_ == 0 || !slot_free)
    return 0;
  auto max = static_cast<size_t>(limits_.max_batch_size);
  if (size_ >= max)
    return max;
  for (auto p : limits_.preferred_sizes)
    if (size_ >= p)
      return p;
  if (now - oldest() >= limits_.max_delay || earliest_deadline() <= now)
    return size_;
  return 0;
}

std::vector<batch_queue::entry> batch_queue::take(size_t n) {
  std::vector<entry> out;
  out.reserve(std::min(n, size_));
  for (auto l = lanes_.begin(); l != lanes_.end() && out.size() < n;) {
    auto& q = l->second;
    while (!q.empty() && out.size() < n) {
      out.push_back(std::move(q.front()));
      q.pop_front();
      --size_;
    }
    l = q.empty() && l->first != 0 ? lanes_.erase(l) : std::next(l);
  }
  return out;
}

batch_queue::time_point batch_queue::next_wakeup() const {
  if (size_ == 0)
    return time_point::max();
  return std::min(oldest() + limits_.max_delay, earliest_deadline());
}

std::vector<batch_queue::entry> batch_queue::drain() {
  auto out = take(size_);
  lanes_.clear();
  size_ = 0;
  return out;
}

batch_queue::time_point batch_queue::oldest() const {
  auto result = time_point::max();
  for (auto& [prio, q] : lanes_)
    if (!q.empty())
      result = std::min(result, q.front().enqueued);
  return result;
}

batch_queue::time_point batch_queue::earliest_deadline() const {
  // Deadlines mostly follow arrival order; a scan is cheap next to the
  // batch it decides on, and only runs while the queue holds requests.
  auto result = time_point::max();
  for (auto& [prio, q] : lanes_)
    for (auto& e : q)
      result = std::min(result, e.deadline);
  return result;
}

} // namespace dine
