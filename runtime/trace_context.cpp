#include "runtime/trace_context.hpp"

namespace dine {

namespace {

bool lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

bool all_zero(std::string_view s) {
  return s.find_first_not_of('0') == std::string_view::npos;
}

uint8_t hex_value(char c) {
  return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10);
}

} // namespace

bool valid_trace(std::string_view s) {
  if (s.empty() || s.size() > 128)
    return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
          c == '-'))
      return false;
  return true;
}

bool is_w3c_trace_id(std::string_view id) {
  return id.size() == 32 && lower_hex(id) && !all_zero(id);
}

std::optional<trace_parent> parse_traceparent(std::string_view text) {
  // VERSION(2) - TRACEID(32) - PARENTID(16) - FLAGS(2) = 55 characters.
  constexpr size_t base = 55;
  if (text.size() < base || text[2] != '-' || text[35] != '-' ||
      text[52] != '-')
    return std::nullopt;
  auto version = text.substr(0, 2);
  auto trace = text.substr(3, 32);
  auto parent = text.substr(36, 16);
  auto flags = text.substr(53, 2);
  if (!lower_hex(version) || version == "ff" || !lower_hex(flags) ||
      !is_w3c_trace_id(trace) || !lower_hex(parent) || all_zero(parent))
    return std::nullopt;
  if (text.size() > base && (version == "00" || text[base] != '-'))
    return std::nullopt;
  trace_parent out;
  out.trace_id = std::string{trace};
  out.parent_id = std::string{parent};
  out.flags =
      static_cast<uint8_t>(hex_value(flags[0]) << 4 | hex_value(flags[1]));
  return out;
}

std::string make_traceparent(std::string_view trace, uint64_t span,
                             uint8_t flags) {
  static constexpr char digits[] = "0123456789abcdef";
  if (span == 0)
    span = 1;
  std::string out = "00-";
  out.append(trace);
  out += '-';
  for (int i = 15; i >= 0; --i)
    out += digits[(span >> (i * 4)) & 0xf];
  out += '-';
  out += digits[flags >> 4];
  out += digits[flags & 0xf];
  return out;
}

} // namespace dine
