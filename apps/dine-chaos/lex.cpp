#include "lex.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>

namespace dine::chaos {

namespace {

constexpr std::pair<const char*, int> signals[] = {
    {"KILL", SIGKILL}, {"STOP", SIGSTOP}, {"CONT", SIGCONT},
    {"TERM", SIGTERM}, {"INT", SIGINT},   {"HUP", SIGHUP},
    {"QUIT", SIGQUIT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
};

} // namespace

void fail(std::string msg) {
  throw syntax_error{std::move(msg)};
}

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && isspace(static_cast<unsigned char>(line[i])))
      ++i;
    if (i == line.size() || line[i] == '#')
      break;
    std::string word;
    while (i < line.size() && !isspace(static_cast<unsigned char>(line[i]))) {
      if (line[i] == '"') {
        auto end = line.find('"', i + 1);
        if (end == std::string::npos)
          fail("unterminated quote");
        word += line.substr(i + 1, end - i - 1);
        i = end + 1;
      } else {
        word += line[i++];
      }
    }
    out.push_back(std::move(word));
  }
  return out;
}

bool valid_name(const std::string& s) {
  return !s.empty() && s.size() <= 32 &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                  c == '-';
         });
}

std::vector<std::string> expand_group(const std::string& word) {
  auto open = word.find('[');
  if (open == std::string::npos) {
    if (!valid_name(word))
      fail("bad node name `" + word +
           "` (letters, digits, _ or -, at most 32 characters)");
    return {word};
  }
  auto dots = word.find("..", open);
  if (word.back() != ']' || dots == std::string::npos)
    fail("a node group is written NAME[A..B], got `" + word + "`");
  auto prefix = word.substr(0, open);
  auto lo = to_uint("group start", word.substr(open + 1, dots - open - 1), 0,
                    1000000);
  auto hi = to_uint("group end", word.substr(dots + 2, word.size() - dots - 3),
                    0, 1000000);
  if (lo > hi || hi - lo + 1 > max_group_size)
    fail("group `" + word + "`: need A <= B and at most " +
         std::to_string(max_group_size) + " nodes");
  std::vector<std::string> out;
  for (auto i = lo; i <= hi; ++i) {
    out.push_back(prefix + std::to_string(i));
    if (!valid_name(out.back()))
      fail("group `" + word + "`: bad node name `" + out.back() + "`");
  }
  return out;
}

std::pair<std::string, std::string> key_value(const std::string& word) {
  auto eq = word.find('=');
  if (eq == std::string::npos || eq == 0)
    fail("expected KEY=VALUE, got `" + word + "`");
  return {word.substr(0, eq), word.substr(eq + 1)};
}

uint64_t to_uint(const std::string& what, const std::string& v, uint64_t lo,
                 uint64_t hi) {
  char* end = nullptr;
  errno = 0;
  auto x = strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || !isdigit(v[0]) || x < lo ||
      x > hi)
    fail(what + " must be an integer in " + std::to_string(lo) + ".." +
         std::to_string(hi) + ", got `" + v + "`");
  return x;
}

double to_double(const std::string& what, const std::string& v) {
  char* end = nullptr;
  auto x = strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || x != x)
    fail(what + " must be a number, got `" + v + "`");
  return x;
}

bool to_bool(const std::string& what, const std::string& v) {
  if (v != "true" && v != "false")
    fail(what + " must be true or false, got `" + v + "`");
  return v == "true";
}

int64_t to_duration(const std::string& what, const std::string& v) {
  int64_t ms = 0;
  if (!parse_duration(v, ms))
    fail(what + " must be a duration like 500ms, 2s or 1m, got `" + v + "`");
  return ms;
}

bool parse_duration(const std::string& in, int64_t& ms) {
  size_t unit = 0;
  while (unit < in.size() &&
         (isdigit(static_cast<unsigned char>(in[unit])) || in[unit] == '.'))
    ++unit;
  if (unit == 0 || unit == in.size())
    return false;
  char* end = nullptr;
  auto num = in.substr(0, unit);
  auto x = strtod(num.c_str(), &end);
  if (*end != '\0' || x < 0)
    return false;
  auto u = in.substr(unit);
  double scale = u == "ms" ? 1 : u == "s" ? 1000 : u == "m" ? 60000 : -1;
  if (scale < 0 || x * scale > 1e12)
    return false;
  ms = static_cast<int64_t>(x * scale + 0.5);
  return true;
}

int signal_number(const std::string& name) {
  auto n = name.compare(0, 3, "SIG") == 0 ? name.substr(3) : name;
  for (auto& [s, num] : signals)
    if (n == s)
      return num;
  return 0;
}

std::string signal_name(int sig) {
  for (auto& [s, num] : signals)
    if (num == sig)
      return s;
  return std::to_string(sig);
}

} // namespace dine::chaos
