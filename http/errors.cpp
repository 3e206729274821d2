#include "http/errors.hpp"

#include <nlohmann/json.hpp>

namespace dine::http {

unsigned status_of(errc code) {
  switch (code) {
  case errc::none:
    return 200;
  case errc::invalid_request:
  case errc::invalid_input:
  case errc::unknown_op:
  case errc::invalid_config:
    return 400;
  case errc::unauthorized:
    return 401;
  case errc::forbidden:
    return 403;
  case errc::unknown_model:
    return 404;
  case errc::frame_too_large:
  case errc::value_too_large:
    return 413;
  case errc::overloaded:
    return 429;
  case errc::worker_failed:
  case errc::worker_lost:
    return 502;
  case errc::unavailable:
  case errc::shutting_down:
  case errc::not_leader:
    return 503;
  case errc::deadline_exceeded:
    return 504;
  default:
    return 500;
  }
}

namespace {

/// OpenAI's error `type` for a code.
const char* type_of(std::string_view code) {
  if (code == "unknown_model" || code == "not_found" ||
      code == "unknown_request")
    return "not_found_error";
  if (code == "overloaded")
    return "rate_limit_error";
  if (code == "unauthorized")
    return "authentication_error";
  if (code == "forbidden")
    return "permission_error";
  if (code == "invalid_request" || code == "invalid_input" ||
      code == "bad_json" || code == "body_too_large" ||
      code == "header_too_large" || code == "method_not_allowed" ||
      code == "not_generative")
    return "invalid_request_error";
  return "server_error";
}

} // namespace

std::string error_body(std::string_view code, std::string_view message) {
  nlohmann::json j;
  j["error"] = {{"code", code},
                {"message", message},
                {"type", type_of(code)},
                {"param", nullptr}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace dine::http
