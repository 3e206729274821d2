#include "runtime/request_log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <utility>
#include <vector>

#include "messages/errc.hpp"

namespace dine {

namespace {

/// FNV-1a, then a mix: spreads short similar ids over the whole range.
uint64_t trace_hash(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

std::string now_text() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                now.time_since_epoch())
                .count() %
            1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96]; // fits any int fields: no truncation warning
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

/// The stages of `t` in reply order (docs/protocol.md, "Timings").
std::vector<std::pair<const char*, uint32_t>> stages(const timings& t) {
  return {{"read_us", t.read_us},         {"preproc_us", t.preproc_us},
          {"cache_us", t.cache_us},       {"queue_us", t.queue_us},
          {"network_us", t.network_us},   {"infer_us", t.infer_us},
          {"postproc_us", t.postproc_us}, {"write_us", t.write_us},
          {"total_us", t.total_us},       {"ttft_us", t.ttft_us},
          {"tpot_us", t.tpot_us}};
}

std::string timings_json(const timings& t) {
  std::string out = "{";
  for (auto& [name, us] : stages(t)) {
    if (out.size() > 1)
      out += ',';
    out += std::string{"\""} + name + "\":" + std::to_string(us);
  }
  return out + "}";
}

} // namespace

bool should_log(const std::string& trace, uint8_t code, double rate) {
  if (code != 0)
    return true;
  if (rate <= 0)
    return false;
  if (rate >= 1)
    return true;
  // Compare in [0, 1): the top 53 bits of the hash as a double.
  auto x = static_cast<double>(trace_hash(trace) >> 11) / 9007199254740992.0;
  return x < rate;
}

std::string json_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x80) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string request_log_line(const std::string& model, const client_reply& r,
                             bool json) {
  bool ok = r.code == 0;
  std::string code = ok ? "ok" : to_string(static_cast<errc>(r.code));
  auto level = ok ? "info" : "warn";
  auto& t = r.times;
  std::string out;
  if (json) {
    out = "{\"ts\":\"" + now_text() + "\",\"level\":\"" + level +
          "\",\"event\":\"request\",\"trace\":\"" + json_escape(r.trace) +
          "\",\"model\":\"" + json_escape(model) + "\",\"worker\":\"" +
          json_escape(r.worker) + "\",\"outcome\":\"" + code + "\"";
    if (!ok)
      out += ",\"message\":\"" + json_escape(r.message) + "\"";
    out += ",\"cached\":" + std::string{r.cached ? "true" : "false"} +
           ",\"batch\":" + std::to_string(r.batch) +
           ",\"timings\":" + timings_json(t);
    out += "}";
    return out;
  }
  out = now_text() + " " + level + " request trace=" + r.trace +
        " model=" + json_escape(model) +
        " worker=" + (r.worker.empty() ? "-" : json_escape(r.worker)) +
        " outcome=" + code + " cached=" + (r.cached ? "1" : "0") +
        " batch=" + std::to_string(r.batch);
  for (auto& [name, us] : stages(t))
    out += std::string{" "} + name + "=" + std::to_string(us);
  if (!ok)
    out += " message=\"" + json_escape(r.message) + "\"";
  return out;
}

} // namespace dine
