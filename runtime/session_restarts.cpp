#include "runtime/session_restarts.hpp"

#include <algorithm>

namespace dine {

namespace {

/// The one child of a session's policy.
constexpr const char* session_id = "session";

} // namespace

session_restarts::session_restarts(size_t max_restarts,
                                   std::chrono::steady_clock::duration window,
                                   duration first_delay)
    : max_restarts_(max_restarts), window_(window), first_delay_(first_delay),
      policy_(fresh_policy()),
      // Doubles per restart within a window; the policy gives up before
      // the cap matters.
      delay_(first_delay * (1 << std::min<size_t>(max_restarts, 16)),
             first_delay) {
  // nop
}

supervisor_policy session_restarts::fresh_policy() const {
  supervisor_policy p{{restart_strategy::one_for_one, max_restarts_, window_},
                      {child_spec{session_id, restart_type::permanent}}};
  p.start_all();
  return p;
}

std::optional<session_restarts::duration>
session_restarts::on_crash(time_point now) {
  auto d = policy_.on_child_exit(session_id, true, now);
  if (d.action == supervisor_action::escalate)
    return std::nullopt;
  if (policy_.recent_restarts() == 1)
    delay_.reset(); // the first restart of a window
  return delay_.next();
}

void session_restarts::reset() {
  policy_ = fresh_policy();
  delay_.reset();
}

} // namespace dine
