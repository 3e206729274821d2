#include "runtime/cli_parser.hpp"

#include <cerrno>
#include <cstdlib>

#include "runtime/config_parse.hpp"

namespace dine {

std::string parse_cli(int argc, char** argv, const std::vector<cli_flag>& flags,
                      bool& help) {
  auto find = [&](const std::string& name) -> const cli_flag* {
    for (auto& f : flags)
      if (f.name == name)
        return &f;
    return nullptr;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help = true;
      return {};
    }
    if (auto f = find(arg); f != nullptr && !f->takes_value) {
      if (auto err = f->set({}); !err.empty())
        return err;
      continue;
    }
    std::string name;
    std::string value;
    if (auto bad = next_flag(argc, argv, i, name, value); !bad.empty())
      return bad;
    auto f = find(name);
    if (f == nullptr || !f->takes_value)
      return "unknown flag `" + name + "`";
    if (auto err = f->set(value); !err.empty())
      return err;
  }
  return {};
}

std::string cli_uint(const std::string& flag, const std::string& value,
                     uint64_t min, uint64_t max, uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  auto x = strtoull(value.c_str(), &end, 10);
  if (value.empty() || value[0] == '-' || *end != '\0' || errno != 0 ||
      x < min || x > max)
    return flag + " must be an integer in " + std::to_string(min) + ".." +
           std::to_string(max) + ", got `" + value + "`";
  out = x;
  return {};
}

std::string cli_int32(const std::string& flag, const std::string& value,
                      int32_t& out) {
  char* end = nullptr;
  errno = 0;
  auto x = strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno != 0 || x < INT32_MIN ||
      x > INT32_MAX)
    return flag + " must be a 32-bit integer, got `" + value + "`";
  out = static_cast<int32_t>(x);
  return {};
}

bool cli_positive(const std::string& value, double max, double& out) {
  char* end = nullptr;
  auto x = strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !(x > 0) || x > max)
    return false;
  out = x;
  return true;
}

std::string cli_seconds(const std::string& flag, const std::string& value,
                        double max, double& out) {
  if (!cli_positive(value, max, out))
    return flag + " must be a positive number of seconds, got `" + value + "`";
  return {};
}

std::string cli_nonempty(const std::string& flag, const std::string& value,
                         std::string& out) {
  out = value;
  if (value.empty())
    return flag + " must not be empty";
  return {};
}

std::function<std::string(const std::string&)> cli_text(std::string& field) {
  return [&field](const std::string& v) {
    field = v;
    return std::string{};
  };
}

void add_client_port_flags(std::vector<cli_flag>& flags, std::string& api_key,
                           bool& tls, std::string& ca, std::string& tls_name) {
  flags.push_back({"--api-key", true, cli_text(api_key)});
  flags.push_back({"--tls", false, [&tls](const std::string&) {
                     tls = true;
                     return std::string{};
                   }});
  flags.push_back({"--ca", true, [&tls, &ca](const std::string& v) {
                     tls = true;
                     ca = v;
                     return std::string{};
                   }});
  flags.push_back({"--tls-name", true, cli_text(tls_name)});
}

} // namespace dine
