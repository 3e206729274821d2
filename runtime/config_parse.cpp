#include "runtime/config_parse.hpp"

namespace dine {

bool parse_u64(const std::string& s, uint64_t& out, uint64_t lo, uint64_t hi) {
  if (s.empty() || s.size() > 19)
    return false;
  uint64_t x = 0;
  for (auto c : s) {
    if (c < '0' || c > '9')
      return false;
    x = x * 10 + static_cast<uint64_t>(c - '0');
  }
  if (x < lo || x > hi)
    return false;
  out = x;
  return true;
}

bool parse_ms(const std::string& s, std::chrono::milliseconds& out, uint64_t lo,
              uint64_t hi) {
  uint64_t x = 0;
  if (!parse_u64(s, x, lo, hi))
    return false;
  out = std::chrono::milliseconds{x};
  return true;
}

bool parse_bool(const std::string& s, bool& out) {
  if (s != "true" && s != "false")
    return false;
  out = s == "true";
  return true;
}

bool parse_endpoint(const std::string& s, std::string& host, uint16_t& port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return false;
  host = s.substr(0, colon);
  return parse_uint(s.substr(colon + 1), port, 0, 65535);
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (auto c : s) {
    if (c == ',') {
      if (!cur.empty())
        out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  if (!cur.empty())
    out.push_back(cur);
  return out;
}

std::string next_flag(int argc, char** argv, int& i, std::string& name,
                      std::string& value) {
  std::string arg = argv[i];
  if (arg.compare(0, 2, "--") != 0)
    return "unexpected argument `" + arg + "`";
  auto eq = arg.find('=');
  if (eq != std::string::npos) {
    name = arg.substr(0, eq);
    value = arg.substr(eq + 1);
    return {};
  }
  name = arg;
  if (i + 1 >= argc)
    return "flag " + name + " needs a value";
  value = argv[++i];
  return {};
}

void append_kv(std::string& out, const char* key, const std::string& value) {
  out += "\n";
  out += key;
  out += " = ";
  out += value;
}

} // namespace dine
