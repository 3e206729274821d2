#pragma once

// Words and values of the scenario language: splitting a line into words,
// `KEY=VALUE` pairs, numbers, durations and signal names. The `to_*`
// helpers throw `syntax_error`; `parse_scenario` turns it into a
// `parse_error` with the line number.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dine::chaos {

/// A syntax error inside one line (the parser adds the line number).
struct syntax_error {
  std::string message;
};

/// Throws `syntax_error{msg}`.
[[noreturn]] void fail(std::string msg);

/// Splits a line into words: blanks separate, `"..."` quotes, a word
/// starting with `#` starts a comment.
std::vector<std::string> split_words(const std::string& line);

/// Returns whether `s` is a valid node name.
bool valid_name(const std::string& s);

/// Most nodes one `NAME[A..B]` group may declare.
constexpr uint64_t max_group_size = 1024;

/// Expands a node name or a group `NAME[A..B]` (A <= B) into the names
/// NAMEA, ..., NAMEB; a plain name stays itself. Fails on a bad range or
/// when a resulting name is not valid (`valid_name`).
std::vector<std::string> expand_group(const std::string& word);

/// Splits `key=value`; fails on a word without `=`.
std::pair<std::string, std::string> key_value(const std::string& word);

/// Parses an unsigned integer in `[lo, hi]`; `what` names it in errors.
uint64_t to_uint(const std::string& what, const std::string& v, uint64_t lo,
                 uint64_t hi);

/// Parses a floating-point number.
double to_double(const std::string& what, const std::string& v);

/// Parses `true` or `false`.
bool to_bool(const std::string& what, const std::string& v);

/// Parses a duration into milliseconds (see `parse_duration`).
int64_t to_duration(const std::string& what, const std::string& v);

/// Parses a duration such as `2s`, `1.5s`, `250ms` or `1m` into
/// milliseconds. Returns false on a bad value or a missing unit.
bool parse_duration(const std::string& in, int64_t& ms);

/// Returns the signal number of `KILL`, `SIGKILL`, ... or 0.
int signal_number(const std::string& name);

/// Returns the name of signal `sig` without the SIG prefix.
std::string signal_name(int sig);

} // namespace dine::chaos
