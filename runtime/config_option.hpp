#pragma once

// One row of a config key table and the helpers every section's table
// shares (docs/operations.md, "Adding a config key"). A section (`[node]`,
// `[model.NAME]`, and the sub-structs they hold: routing, cache, generative)
// owns one `config_table` of rows; `lift` reuses a sub-struct's table inside
// the table of the struct that holds it, so that each key is one row: how it
// parses, what `--help` says about it and how `--check` prints it.

#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>

namespace dine {

/// One config key of section `Section`.
template <class Section>
struct config_option {
  const char* key;     ///< Name in the file and as `--key=value`.
  const char* help;    ///< One line of `--help`.
  const char* expects; ///< Named in errors: "a port (0-65535)".
  /// Parses and stores `value`; false if it is invalid.
  std::function<bool(Section&, const std::string&)> set;
  /// The value as `--check` prints it; nullopt (or no function) omits the
  /// key (unset optional keys, keys another row prints).
  std::function<std::optional<std::string>(const Section&)> show;
};

/// The keys of one section, in `--help` and `--check` order.
template <class Section>
using config_table = std::vector<config_option<Section>>;

/// Returns the rows of `table` acting on the member `member` of `Outer`.
template <class Outer, class Section>
config_table<Outer> lift(const config_table<Section>& table,
                         Section Outer::*member) {
  config_table<Outer> out;
  out.reserve(table.size());
  for (auto& row : table) {
    config_option<Outer> x{row.key, row.help, row.expects, nullptr, nullptr};
    x.set = [member, set = row.set](Outer& o, const std::string& v) {
      return set(o.*member, v);
    };
    if (row.show)
      x.show = [member, show = row.show](const Outer& o) {
        return show(o.*member);
      };
    out.push_back(std::move(x));
  }
  return out;
}

/// Appends the rows of `more` to `table`.
template <class Section>
void append_rows(config_table<Section>& table,
                 const config_table<Section>& more) {
  table.insert(table.end(), more.begin(), more.end());
}

/// Returns the row of `key`, or null.
template <class Section>
const config_option<Section>* find_option(const config_table<Section>& table,
                                          const std::string& key) {
  for (auto& row : table)
    if (key == row.key)
      return &row;
  return nullptr;
}

/// The `invalid_config` error of a bad value: names key, value, what was
/// expected and where the value came from.
caf::error bad_value(const std::string& key, const std::string& value,
                     const char* expects, const std::string& origin);

/// Sets `row` of `s` to `value`; `key` is the full key for errors.
template <class Section>
caf::error apply_row(const config_option<Section>& row, Section& s,
                     const std::string& key, const std::string& value,
                     const std::string& origin) {
  if (!row.set(s, value))
    return bad_value(key, value, row.expects, origin);
  return caf::none;
}

/// One `--help` line: `indent`, the key padded to `width`, the help text.
std::string usage_line(const char* indent, const char* key, size_t width,
                       const char* help);

/// The `--help` lines of `table`.
template <class Section>
std::string usage_lines(const config_table<Section>& table, const char* indent,
                        size_t width) {
  std::string out;
  for (auto& row : table)
    out += usage_line(indent, row.key, width, row.help);
  return out;
}

/// Appends the `--check` lines of `table` for `s` (`\nkey = value` each).
template <class Section>
void append_shown(std::string& out, const config_table<Section>& table,
                  const Section& s) {
  for (auto& row : table)
    if (row.show)
      if (auto v = row.show(s)) {
        out += '\n';
        out += row.key;
        out += " = ";
        out += *v;
      }
}

} // namespace dine
