// cli_parser: the command-line parser of dine-client and dine-bench.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "runtime/cli_parser.hpp"

using namespace dine;

namespace {

/// A tool with a switch, a count and a name.
struct tool {
  bool verbose = false;
  uint32_t count = 0;
  std::string name;
  bool help = false;

  std::vector<cli_flag> flags() {
    return {
        {"--verbose", false,
         [this](const std::string&) {
           verbose = true;
           return std::string{};
         }},
        {"--count", true,
         [this](const std::string& v) {
           return cli_uint("--count", v, 1, 10, count);
         }},
        {"--name", true,
         [this](const std::string& v) {
           return cli_nonempty("--name", v, name);
         }},
    };
  }

  std::string parse(std::vector<std::string> args) {
    args.insert(args.begin(), "tool");
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    return parse_cli(static_cast<int>(argv.size()), argv.data(), flags(), help);
  }
};

} // namespace

TEST_CASE("cli: switches, --flag=value and --flag value") {
  tool t;
  CHECK(t.parse({"--verbose", "--count=3", "--name", "x"}) == "");
  CHECK(t.verbose);
  CHECK(t.count == 3);
  CHECK(t.name == "x");
  CHECK_FALSE(t.help);
}

TEST_CASE("cli: the first problem is reported, naming the flag") {
  CHECK(tool{}.parse({"--count=11"}) ==
        "--count must be an integer in 1..10, got `11`");
  CHECK(tool{}.parse({"--count=-1"}) ==
        "--count must be an integer in 1..10, got `-1`");
  CHECK(tool{}.parse({"--count=2x"}) ==
        "--count must be an integer in 1..10, got `2x`");
  CHECK(tool{}.parse({"--name="}) == "--name must not be empty");
  CHECK(tool{}.parse({"--colour=red"}) == "unknown flag `--colour`");
  CHECK(tool{}.parse({"--verbose=yes"}) == "unknown flag `--verbose`");
  CHECK(tool{}.parse({"--count"}) == "flag --count needs a value");
  CHECK(tool{}.parse({"stray"}) == "unexpected argument `stray`");
}

TEST_CASE("cli: --help and -h stop parsing at once") {
  tool t;
  CHECK(t.parse({"--count=3", "--help", "--colour=red"}) == "");
  CHECK(t.help);
  tool u;
  CHECK(u.parse({"-h"}) == "");
  CHECK(u.help);
}

TEST_CASE("cli: numbers, seconds and signed integers") {
  double d = 0;
  CHECK(cli_seconds("--timeout", "2.5", 10, d) == "");
  CHECK(d == doctest::Approx(2.5));
  CHECK(cli_seconds("--timeout", "0", 10, d) ==
        "--timeout must be a positive number of seconds, got `0`");
  CHECK(cli_seconds("--timeout", "11", 10, d) != "");
  CHECK_FALSE(cli_positive("nan", 10, d));
  CHECK_FALSE(cli_positive("", 10, d));
  int32_t i = 0;
  CHECK(cli_int32("--priority", "-7", i) == "");
  CHECK(i == -7);
  CHECK(cli_int32("--priority", "2147483648", i) ==
        "--priority must be a 32-bit integer, got `2147483648`");
  uint64_t u = 0;
  CHECK(cli_uint("--seed", "18446744073709551615", 0, UINT64_MAX, u) == "");
  CHECK(u == UINT64_MAX);
  CHECK(cli_uint("--seed", "18446744073709551616", 0, UINT64_MAX, u) != "");
}
