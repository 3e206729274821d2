#pragma once

// The value parsers shared by every config key table (node, routing,
// cache): strict, no locale, no partial matches.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace dine {

/// Parses a decimal unsigned integer in [lo, hi] (digits only).
bool parse_u64(const std::string& s, uint64_t& out, uint64_t lo, uint64_t hi);

/// `parse_u64` into any unsigned integer type.
template <class T>
bool parse_uint(const std::string& s, T& out, uint64_t lo, uint64_t hi) {
  uint64_t x = 0;
  if (!parse_u64(s, x, lo, hi))
    return false;
  out = static_cast<T>(x);
  return true;
}

/// Parses milliseconds in [lo, hi] (digits only, no unit).
bool parse_ms(const std::string& s, std::chrono::milliseconds& out, uint64_t lo,
              uint64_t hi);

/// Parses `true` or `false`.
bool parse_bool(const std::string& s, bool& out);

/// Parses `HOST:PORT` (the last colon splits; port 0-65535).
bool parse_endpoint(const std::string& s, std::string& host, uint16_t& port);

/// Splits a comma-separated list, dropping spaces and empty items.
std::vector<std::string> split_list(const std::string& s);

/// Appends a `key = value` line, starting with a newline, to `out`: the
/// config file format that `--check` prints.
void append_kv(std::string& out, const char* key, const std::string& value);

/// Reads the command-line flag at `argv[i]` as `--name=value` or
/// `--name value` (then advancing `i`). Returns an empty string on success,
/// else what is wrong.
std::string next_flag(int argc, char** argv, int& i, std::string& name,
                      std::string& value);

} // namespace dine
