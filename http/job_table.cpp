#include "http/job_table.hpp"

namespace dine::http {

void job_table::expire(clock::time_point now) {
  while (!expiry_.empty() && expiry_.front().first <= now) {
    jobs_.erase(expiry_.front().second);
    expiry_.pop_front();
  }
}

bool job_table::add(uint64_t id, clock::time_point now, uint32_t owner) {
  std::lock_guard<std::mutex> guard{mtx_};
  expire(now);
  if (jobs_.size() >= max_)
    return false;
  job j;
  j.owner = owner;
  jobs_.emplace(id, std::move(j));
  return true;
}

void job_table::complete(uint64_t id, unsigned status, std::string body,
                         clock::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = jobs_.find(id);
  if (i == jobs_.end() || i->second.st != state::pending)
    return;
  i->second.st = state::done;
  i->second.status = status;
  i->second.body = std::move(body);
  expiry_.emplace_back(now + ttl_, id);
}

bool job_table::cancel(uint64_t id, clock::time_point now,
                       const key_match& who) {
  std::lock_guard<std::mutex> guard{mtx_};
  expire(now);
  auto i = jobs_.find(id);
  if (i == jobs_.end() || !visible(i->second, who))
    return false;
  if (i->second.st == state::pending) {
    i->second.st = state::cancelled;
    expiry_.emplace_back(now + ttl_, id);
  }
  return true;
}

std::optional<job_table::job> job_table::get(uint64_t id, clock::time_point now,
                                             const key_match& who) {
  std::lock_guard<std::mutex> guard{mtx_};
  expire(now);
  auto i = jobs_.find(id);
  if (i == jobs_.end() || !visible(i->second, who))
    return std::nullopt;
  return i->second;
}

size_t job_table::size() {
  std::lock_guard<std::mutex> guard{mtx_};
  return jobs_.size();
}

} // namespace dine::http
