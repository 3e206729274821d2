#pragma once

// The command-line parser shared by the client tools (dine-client,
// dine-bench): a table of flags, each with the function that stores its
// value, and value parsers whose messages name the flag. dine-node's own
// flags are its config keys (runtime/config_option.hpp).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dine {

/// One flag of a tool's command line.
struct cli_flag {
  /// The flag with its dashes, e.g. `"--connect"`.
  std::string name;
  /// A flag with a value takes `--name=VALUE` or `--name VALUE`; one without
  /// (a switch, e.g. `--json`) is given alone.
  bool takes_value = true;
  /// Stores the value (empty for a switch); returns an empty string on
  /// success, else a message naming the flag.
  std::function<std::string(const std::string& value)> set;
};

/// Parses `argv[1..argc)` against `flags` in order. `--help` or `-h` sets
/// `help` and stops at once. Returns an empty string on success, else the
/// first problem: an unknown flag, a missing value, a positional argument
/// or what a flag's `set` reported.
std::string parse_cli(int argc, char** argv, const std::vector<cli_flag>& flags,
                      bool& help);

/// Parses a decimal integer in [min, max] for `flag` (digits only).
std::string cli_uint(const std::string& flag, const std::string& value,
                     uint64_t min, uint64_t max, uint64_t& out);

/// `cli_uint` into any unsigned integer type.
template <class T>
std::string cli_uint(const std::string& flag, const std::string& value,
                     uint64_t min, uint64_t max, T& out) {
  uint64_t x = 0;
  auto err = cli_uint(flag, value, min, max, x);
  if (err.empty())
    out = static_cast<T>(x);
  return err;
}

/// Parses a signed 32-bit decimal integer for `flag`.
std::string cli_int32(const std::string& flag, const std::string& value,
                      int32_t& out);

/// Parses a number greater than 0 and at most `max` (no unit); returns
/// false if `value` is none.
bool cli_positive(const std::string& value, double max, double& out);

/// Parses a positive number of seconds, at most `max`, for `flag`.
std::string cli_seconds(const std::string& flag, const std::string& value,
                        double max, double& out);

/// Stores `value` in `out`; an empty value is an error naming `flag`.
std::string cli_nonempty(const std::string& flag, const std::string& value,
                         std::string& out);

/// A setter that stores a flag's value in `field` as given.
std::function<std::string(const std::string&)> cli_text(std::string& field);

/// Appends the flags by which a client tool reaches a client port:
/// `--api-key`, `--tls`, `--ca` (implies `--tls`) and `--tls-name`.
void add_client_port_flags(std::vector<cli_flag>& flags, std::string& api_key,
                           bool& tls, std::string& ca, std::string& tls_name);

} // namespace dine
