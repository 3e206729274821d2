#include "runtime/reconnect_state.hpp"

namespace dine {

bool reconnect_state::begin() noexcept {
  if (connecting_ || connected_ || stopped_)
    return false;
  connecting_ = true;
  return true;
}

std::optional<reconnect_state::duration> reconnect_state::failed() noexcept {
  connecting_ = false;
  connected_ = false;
  ++failures_;
  if (stopped_)
    return std::nullopt;
  return retry_.next();
}

bool reconnect_state::up() noexcept {
  connecting_ = false;
  connected_ = true;
  retry_.reset();
  auto outage = failures_ > 0;
  failures_ = 0;
  return outage;
}

std::optional<reconnect_state::duration> reconnect_state::lost() noexcept {
  connected_ = false;
  connecting_ = false;
  retry_.reset();
  if (stopped_)
    return std::nullopt;
  return retry_.next();
}

std::string retry_message(std::string_view who, std::string_view why,
                          std::optional<backoff::duration> delay) {
  std::string result{who};
  result += ": ";
  result += why;
  if (delay)
    result += "; retrying in " + std::to_string(delay->count()) + " ms";
  else
    result += "; not retrying";
  return result;
}

} // namespace dine
