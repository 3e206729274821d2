#pragma once

// Row helpers for the [node] key table (docs/operations.md, "Node keys"):
// setters and showers for members of `node_config`, shared by the files
// that define its rows (node_config.cpp, front_options.cpp).

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "runtime/config_parse.hpp"
#include "runtime/node_config.hpp"

namespace dine::node_rows {

using opt = std::optional<std::string>;
using setter = std::function<bool(node_config&, const std::string&)>;
using shower = std::function<opt(const node_config&)>;

template <class T>
std::string num(T x) {
  return std::to_string(x);
}

inline setter ms_setter(std::chrono::milliseconds node_config::*m, uint64_t lo,
                        uint64_t hi) {
  return [=](node_config& c, const std::string& v) {
    return parse_ms(v, c.*m, lo, hi);
  };
}

inline shower ms_shower(std::chrono::milliseconds node_config::*m) {
  return [=](const node_config& c) -> opt { return num((c.*m).count()); };
}

template <class T>
inline setter uint_setter(T node_config::*m, uint64_t lo, uint64_t hi) {
  return [=](node_config& c, const std::string& v) {
    return parse_uint(v, c.*m, lo, hi);
  };
}

template <class T>
inline shower uint_shower(T node_config::*m) {
  return [=](const node_config& c) -> opt { return num(c.*m); };
}

/// Shows a string member unless it is empty.
inline shower str_shower(std::string node_config::*m) {
  return [=](const node_config& c) -> opt {
    if ((c.*m).empty())
      return std::nullopt;
    return c.*m;
  };
}

/// Shows an HTTP key only while the HTTP front door is on.
template <class F>
inline shower if_http(F f) {
  return [f](const node_config& c) -> opt {
    if (!c.http.enabled)
      return std::nullopt;
    return f(c.http);
  };
}

} // namespace dine::node_rows
