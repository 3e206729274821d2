#include "runtime/node_config.hpp"

// Reading a configuration: the config file format ([node], [model.NAME],
// `key = value`) and the command line on top of it (docs/operations.md).

#include <algorithm>
#include <fstream>
#include <sstream>

#include "messages/errc.hpp"
#include "runtime/generative_config.hpp"

namespace dine {

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

} // namespace

caf::error apply_config_text(node_config& cfg, const std::string& text,
                             const std::string& origin) {
  std::istringstream in{text};
  std::string line;
  std::string section;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    auto where = origin + ":" + std::to_string(lineno);
    auto s = trim(line);
    if (s.empty() || s[0] == '#' || s[0] == ';')
      continue;
    if (s.front() == '[') {
      if (s.back() != ']')
        return make_error(errc::invalid_config,
                          where + ": unterminated section header");
      section = trim(s.substr(1, s.size() - 2));
      if (!section.empty() && section != "node" &&
          section.rfind("model.", 0) != 0)
        return make_error(errc::invalid_config,
                          where + ": unknown section [" + section +
                              "] (use [node] or [model.NAME])");
      continue;
    }
    auto eq = s.find('=');
    if (eq == std::string::npos)
      return make_error(errc::invalid_config,
                        where + ": expected `key = value`");
    auto key = trim(s.substr(0, eq));
    auto value = trim(s.substr(eq + 1));
    auto quoted = !value.empty() && value.front() == '"';
    auto closed = value.size() >= 2 && value.back() == '"';
    if (quoted != closed)
      return make_error(errc::invalid_config,
                        where + ": `" + key + "`: " +
                            (quoted ? "unterminated quote" : "stray quote") +
                            " in value " + value);
    if (quoted)
      value = value.substr(1, value.size() - 2);
    if (section.rfind("model.", 0) == 0)
      key = section + "." + key;
    if (auto err = apply_option(cfg, key, value, where))
      return err;
  }
  return caf::none;
}

caf::expected<node_config> load_config(const std::vector<std::string>& args) {
  node_config cfg;
  cfg.model_table = builtin_models();
  std::vector<std::pair<std::string, std::string>> flags;
  for (auto& arg : args) {
    if (arg == "--help" || arg == "-h") {
      cfg.help = true;
      return cfg;
    }
    if (arg == "--check") {
      cfg.check = true;
      continue;
    }
    if (arg == "--enable-fault-injection" || arg == "--insecure" ||
        arg == "--client-tls") {
      flags.emplace_back(arg.substr(2), "true"); // a bare flag means true
      continue;
    }
    if (arg.rfind("--", 0) != 0)
      return make_error(errc::invalid_config,
                        "unexpected argument `" + arg +
                            "` (options read --key=value)");
    auto eq = arg.find('=');
    if (eq == std::string::npos)
      return make_error(errc::invalid_config,
                        "option `" + arg + "` needs a value (--key=value)");
    flags.emplace_back(arg.substr(2, eq - 2), arg.substr(eq + 1));
  }
  for (auto& [key, value] : flags) {
    if (key != "config")
      continue;
    std::ifstream in{value};
    if (!in)
      return make_error(errc::invalid_config,
                        "cannot read config file `" + value + "`");
    std::stringstream ss;
    ss << in.rdbuf();
    if (auto err = apply_config_text(cfg, ss.str(), value))
      return err;
  }
  for (auto& [key, value] : flags)
    if (key != "config")
      if (auto err = apply_option(cfg, key, value, "command line"))
        return err;
  // `--models` after `--checkpoint` must not drop the model it defined.
  for (auto& [key, value] : flags)
    if (is_generative_node_key(key) &&
        std::find(cfg.models.begin(), cfg.models.end(), "transformer") ==
            cfg.models.end())
      cfg.models.emplace_back("transformer");
  if (auto err = validate(cfg))
    return err;
  return cfg;
}

} // namespace dine
