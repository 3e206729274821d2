#include "runtime/supervisor_policy.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace dine {

const char* to_string(restart_type x) {
  switch (x) {
  case restart_type::permanent:
    return "permanent";
  case restart_type::transient:
    return "transient";
  case restart_type::temporary:
    return "temporary";
  }
  return "permanent";
}

const char* to_string(restart_strategy x) {
  switch (x) {
  case restart_strategy::one_for_one:
    return "one_for_one";
  case restart_strategy::one_for_all:
    return "one_for_all";
  case restart_strategy::rest_for_one:
    return "rest_for_one";
  }
  return "one_for_one";
}

const char* to_string(supervisor_action x) {
  switch (x) {
  case supervisor_action::none:
    return "none";
  case supervisor_action::restart:
    return "restart";
  case supervisor_action::escalate:
    return "escalate";
  }
  return "none";
}

supervisor_policy::supervisor_policy(supervisor_flags flags,
                                     std::vector<child_spec> children)
    : flags_(flags) {
  if (auto err = validate(flags, children); !err.empty())
    throw std::invalid_argument(err);
  children_.reserve(children.size());
  for (auto& spec : children)
    children_.push_back(child_status{std::move(spec), false, 0});
}

std::string supervisor_policy::validate(const supervisor_flags& flags,
                                        const std::vector<child_spec>& xs) {
  if (flags.period <= std::chrono::steady_clock::duration::zero())
    return "the restart period must be positive";
  std::set<std::string> ids;
  for (auto& x : xs) {
    if (x.id.empty())
      return "a child has an empty id";
    if (!ids.insert(x.id).second)
      return "duplicate child id: " + x.id;
    if (x.shutdown < std::chrono::milliseconds::zero())
      return "negative shutdown timeout of child " + x.id;
  }
  return {};
}

std::vector<std::string> supervisor_policy::start_all() {
  std::vector<std::string> result;
  for (auto& c : children_) {
    if (!c.running) {
      c.running = true;
      result.push_back(c.spec.id);
    }
  }
  return result;
}

supervisor_decision supervisor_policy::on_child_exit(const std::string& id,
                                                     bool abnormal,
                                                     time_point now) {
  supervisor_decision d;
  auto i = std::find_if(children_.begin(), children_.end(),
                        [&](const child_status& c) { return c.spec.id == id; });
  if (i == children_.end() || !i->running)
    return d;
  i->running = false;
  switch (i->spec.restart) {
  case restart_type::temporary:
    // Never restarted and does not count toward the intensity.
    d.removed.push_back(id);
    children_.erase(i);
    return d;
  case restart_type::transient:
    if (!abnormal)
      return d; // Stays in the list, not running.
    break;
  case restart_type::permanent:
    break;
  }
  if (!add_restart(now)) {
    d.action = supervisor_action::escalate;
    d.stop = stop_all();
    return d;
  }
  d.action = supervisor_action::restart;
  auto pos = static_cast<size_t>(i - children_.begin());
  switch (flags_.strategy) {
  case restart_strategy::one_for_one:
    restart_range(pos, pos + 1, d);
    break;
  case restart_strategy::one_for_all:
    restart_range(0, children_.size(), d);
    break;
  case restart_strategy::rest_for_one:
    restart_range(pos, children_.size(), d);
    break;
  }
  return d;
}

std::vector<std::string> supervisor_policy::stop_all() {
  std::vector<std::string> result;
  for (auto i = children_.rbegin(); i != children_.rend(); ++i) {
    if (i->running) {
      i->running = false;
      result.push_back(i->spec.id);
    }
  }
  return result;
}

const child_status* supervisor_policy::find(const std::string& id) const {
  for (auto& c : children_)
    if (c.spec.id == id)
      return &c;
  return nullptr;
}

bool supervisor_policy::add_restart(time_point now) {
  // OTP keeps a restart while `now - then <= period`.
  while (!restarts_.empty() && now - restarts_.front() > flags_.period)
    restarts_.pop_front();
  restarts_.push_back(now);
  return restarts_.size() <= flags_.intensity;
}

void supervisor_policy::restart_range(size_t first, size_t last,
                                      supervisor_decision& d) {
  // Stop in reverse start order; temporary children leave the list.
  for (auto i = last; i > first; --i) {
    auto& c = children_[i - 1];
    if (c.running) {
      c.running = false;
      d.stop.push_back(c.spec.id);
    }
  }
  // Start in start order, including transient children that had exited
  // normally before (OTP restarts the whole range).
  for (auto i = first; i < last; ++i) {
    auto& c = children_[i];
    if (c.spec.restart == restart_type::temporary) {
      d.removed.push_back(c.spec.id);
      continue;
    }
    c.running = true;
    ++c.restarts;
    d.start.push_back(c.spec.id);
  }
  children_.erase(
      std::remove_if(children_.begin() + first, children_.begin() + last,
                     [](const child_status& c) {
                       return c.spec.restart == restart_type::temporary;
                     }),
      children_.begin() + last);
}

} // namespace dine
