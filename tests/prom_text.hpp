#pragma once

// A strict parser of the Prometheus text exposition format (version 0.0.4,
// docs/operations.md links the rules), for the tests: every line is a
// comment, `# HELP`, `# TYPE` or a sample; metric and label names match
// [a-zA-Z_:][a-zA-Z0-9_:]* ([a-zA-Z_][a-zA-Z0-9_]* for labels); label values
// are quoted with \\, \" and \n escapes; values are floats (or +Inf, -Inf,
// NaN); a TYPE line precedes its family's samples and appears once; the
// samples of one family are contiguous; histograms have `le` buckets that
// are cumulative and end with +Inf equal to `_count`.

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace dine::test {

/// One sample line.
struct prom_sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// A parsed exposition: samples in order and each family's type.
struct prom_text {
  std::vector<prom_sample> samples;
  std::map<std::string, std::string> types;

  /// The value of the sample `name` with exactly `labels`; NaN if absent.
  double value(const std::string& name,
               const std::map<std::string, std::string>& labels = {}) const {
    for (auto& s : samples)
      if (s.name == name && s.labels == labels)
        return s.value;
    return std::nan("");
  }

  /// The sum of every sample `name` whose labels include `match`.
  double sum(const std::string& name,
             const std::map<std::string, std::string>& match = {}) const {
    double total = 0;
    for (auto& s : samples) {
      if (s.name != name)
        continue;
      bool ok = true;
      for (auto& [k, v] : match) {
        auto i = s.labels.find(k);
        ok = ok && i != s.labels.end() && i->second == v;
      }
      if (ok)
        total += s.value;
    }
    return total;
  }
};

namespace detail {

inline bool name_char(char c, bool first, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

inline std::string read_name(const std::string& l, size_t& i, bool colon) {
  auto start = i;
  while (i < l.size() && name_char(l[i], i == start, colon))
    ++i;
  if (i == start)
    throw std::runtime_error("expected a name: " + l);
  return l.substr(start, i - start);
}

inline double read_value(const std::string& v, const std::string& l) {
  if (v == "+Inf")
    return INFINITY;
  if (v == "-Inf")
    return -INFINITY;
  if (v == "NaN")
    return std::nan("");
  char* end = nullptr;
  auto x = std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size())
    throw std::runtime_error("bad value '" + v + "': " + l);
  return x;
}

/// The family a sample belongs to (histogram suffixes stripped).
inline std::string family_of(const std::string& name,
                             const std::map<std::string, std::string>& types) {
  for (auto suffix : {"_bucket", "_sum", "_count"}) {
    std::string s = suffix;
    if (name.size() > s.size() &&
        name.compare(name.size() - s.size(), s.size(), s) == 0) {
      auto base = name.substr(0, name.size() - s.size());
      auto t = types.find(base);
      if (t != types.end() && (t->second == "histogram" ||
                               (t->second == "summary" && s != "_bucket")))
        return base;
    }
  }
  return name;
}

} // namespace detail

/// Parses `text`; throws std::runtime_error naming the offending line.
inline prom_text parse_prom_text(const std::string& text) {
  prom_text out;
  std::set<std::string> done; ///< Families whose samples ended.
  std::string current;
  size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos)
      throw std::runtime_error("the last line has no newline");
    auto l = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (l.empty())
      continue;
    if (l[0] == '#') {
      if (l.rfind("# TYPE ", 0) == 0) {
        size_t i = 7;
        auto name = detail::read_name(l, i, true);
        if (i >= l.size() || l[i] != ' ')
          throw std::runtime_error("bad TYPE line: " + l);
        auto type = l.substr(i + 1);
        static const std::set<std::string> known{
            "counter", "gauge", "histogram", "summary", "untyped"};
        if (!known.count(type))
          throw std::runtime_error("unknown type: " + l);
        if (out.types.count(name))
          throw std::runtime_error("second TYPE line: " + l);
        out.types[name] = type;
      } else if (l.rfind("# HELP ", 0) == 0) {
        size_t i = 7;
        detail::read_name(l, i, true);
      }
      continue;
    }
    prom_sample s;
    size_t i = 0;
    s.name = detail::read_name(l, i, true);
    if (i < l.size() && l[i] == '{') {
      ++i;
      while (i < l.size() && l[i] != '}') {
        auto key = detail::read_name(l, i, false);
        if (i + 1 >= l.size() || l[i] != '=' || l[i + 1] != '"')
          throw std::runtime_error("bad label: " + l);
        i += 2;
        std::string value;
        while (i < l.size() && l[i] != '"') {
          if (l[i] == '\\') {
            if (i + 1 >= l.size())
              throw std::runtime_error("bad escape: " + l);
            char e = l[i + 1];
            if (e == 'n')
              value += '\n';
            else if (e == '\\' || e == '"')
              value += e;
            else
              throw std::runtime_error("bad escape: " + l);
            i += 2;
          } else {
            value += l[i++];
          }
        }
        if (i >= l.size())
          throw std::runtime_error("unterminated label value: " + l);
        ++i;
        if (s.labels.count(key))
          throw std::runtime_error("label twice: " + l);
        s.labels[key] = value;
        if (i < l.size() && l[i] == ',')
          ++i;
        else if (i < l.size() && l[i] != '}')
          throw std::runtime_error("bad label list: " + l);
      }
      if (i >= l.size())
        throw std::runtime_error("unterminated labels: " + l);
      ++i;
    }
    if (i >= l.size() || l[i] != ' ')
      throw std::runtime_error("no value: " + l);
    auto rest = l.substr(i + 1);
    auto sp = rest.find(' ');
    s.value = detail::read_value(rest.substr(0, sp), l);
    if (sp != std::string::npos) { // a timestamp: an integer
      auto ts = rest.substr(sp + 1);
      if (ts.empty() ||
          ts.find_first_not_of("-0123456789") != std::string::npos)
        throw std::runtime_error("bad timestamp: " + l);
    }
    auto fam = detail::family_of(s.name, out.types);
    if (fam != current) {
      if (done.count(fam))
        throw std::runtime_error("family " + fam + " not contiguous");
      if (!current.empty())
        done.insert(current);
      current = fam;
    }
    out.samples.push_back(std::move(s));
  }
  // Histograms: cumulative buckets ending in +Inf == _count.
  for (auto& [name, type] : out.types) {
    if (type != "histogram")
      continue;
    std::map<std::map<std::string, std::string>, std::vector<prom_sample>> by;
    for (auto& s : out.samples)
      if (s.name == name + "_bucket") {
        auto key = s.labels;
        if (!key.count("le"))
          throw std::runtime_error(name + ": bucket without le");
        key.erase("le");
        by[key].push_back(s);
      }
    for (auto& [key, buckets] : by) {
      double last_le = -INFINITY;
      double last = 0;
      for (auto& b : buckets) {
        auto le = detail::read_value(b.labels.at("le"), name);
        if (!(le > last_le) || b.value < last)
          throw std::runtime_error(name + ": buckets not cumulative");
        last_le = le;
        last = b.value;
      }
      if (!std::isinf(last_le))
        throw std::runtime_error(name + ": no +Inf bucket");
      auto count = out.value(name + "_count", key);
      if (count != last)
        throw std::runtime_error(name + ": +Inf bucket != _count");
    }
  }
  return out;
}

} // namespace dine::test
