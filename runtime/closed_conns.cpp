#include "runtime/closed_conns.hpp"

namespace dine {

void closed_conns::add(uint64_t id, clock::time_point now) {
  if (max_ == 0 || !ids_.insert(id).second)
    return;
  order_.emplace_back(now, id);
  while (ids_.size() > max_)
    pop();
}

void closed_conns::expire(clock::time_point now) {
  while (!order_.empty() && now - order_.front().first >= ttl_)
    pop();
}

void closed_conns::pop() {
  ids_.erase(order_.front().second);
  order_.pop_front();
}

} // namespace dine
