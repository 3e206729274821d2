#include "runtime/config_option.hpp"

#include <algorithm>

#include "messages/errc.hpp"

namespace dine {

caf::error bad_value(const std::string& key, const std::string& value,
                     const char* expects, const std::string& origin) {
  return make_error(errc::invalid_config,
                    origin + ": `" + key + "` = `" + value +
                        "` is invalid: expected " + expects);
}

std::string usage_line(const char* indent, const char* key, size_t width,
                       const char* help) {
  std::string out = indent;
  out += key;
  out += std::string(width - std::min(width - 1, std::strlen(key)), ' ');
  out += help;
  out += '\n';
  return out;
}

} // namespace dine
