#include "http/auth.hpp"

#include <cctype>

namespace dine::http {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

} // namespace

std::string_view bearer_key(std::string_view authorization) {
  auto v = trim(authorization);
  constexpr std::string_view scheme = "bearer";
  if (v.size() <= scheme.size() ||
      (v[scheme.size()] != ' ' && v[scheme.size()] != '\t'))
    return {};
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(v[i])) != scheme[i])
      return {};
  return trim(v.substr(scheme.size()));
}

std::optional<op_code> route_op(std::string_view path, bool is_delete) {
  if (path == "/health/live" || path == "/" || starts_with(path, "/dashboard/"))
    return std::nullopt;
  if (path == "/health/ready")
    return op_code::health;
  if (path == "/v1/models")
    return op_code::models;
  if (path == "/api/stats" || path == "/metrics")
    return op_code::stats;
  if (starts_with(path, "/v1/requests/") && is_delete)
    return op_code::cancel;
  return op_code::infer;
}

} // namespace dine::http
