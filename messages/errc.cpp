#include "messages/errc.hpp"

#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>

namespace dine {

namespace {

constexpr const char* names[] = {
    "none",
    "invalid_request",
    "frame_too_large",
    "unknown_op",
    "unknown_model",
    "invalid_input",
    "overloaded",
    "unavailable",
    "deadline_exceeded",
    "worker_failed",
    "shutting_down",
    "internal",
    "invalid_config",
    "storage_error",
    "value_too_large",
    "supervisor_gave_up",
    "child_start_failed",
    "worker_lost",
    "forbidden",
    "unauthorized",
    "memory_budget_exceeded",
    "too_many_connections",
    "not_leader",
};

constexpr size_t num_names = sizeof(names) / sizeof(names[0]);

} // namespace

const char* to_string(errc x) {
  auto i = static_cast<size_t>(x);
  return i < num_names ? names[i] : "internal";
}

errc errc_from_string(const std::string& name) {
  for (size_t i = 0; i < num_names; ++i)
    if (name == names[i])
      return static_cast<errc>(i);
  return errc::internal;
}

caf::error make_error(errc x) {
  return caf::error{static_cast<uint8_t>(x), errc_category};
}

caf::error make_error(errc x, std::string msg) {
  return caf::error{static_cast<uint8_t>(x), errc_category,
                    caf::make_message(std::move(msg))};
}

std::pair<errc, std::string> classify(const caf::error& err) {
  if (!err)
    return {errc::none, {}};
  if (err.category() == errc_category) {
    std::string msg;
    if (err.context().match_elements<std::string>())
      msg = err.context().get_as<std::string>(0);
    auto code = static_cast<errc>(err.code());
    if (msg.empty())
      msg = to_string(code);
    return {code, std::move(msg)};
  }
  auto text = caf::to_string(err);
  if (err.category() == caf::atom("exit") ||
      err == caf::sec::request_receiver_down)
    return {errc::worker_failed, std::move(text)};
  if (err == caf::sec::request_timeout)
    return {errc::deadline_exceeded, std::move(text)};
  return {errc::internal, std::move(text)};
}

} // namespace dine
