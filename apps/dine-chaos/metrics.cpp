#include "metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "messages/errc.hpp"

namespace dine::chaos {

namespace {

constexpr int64_t ms_ns = 1000000;

bool starts_with(const std::string& s, const char* prefix) {
  return s.compare(0, strlen(prefix), prefix) == 0;
}

/// Quantile names: p50, p90, p99, p999, max.
std::optional<double> quantile_of(const std::string& name) {
  if (name == "p50")
    return 0.5;
  if (name == "p90")
    return 0.9;
  if (name == "p99")
    return 0.99;
  if (name == "p999")
    return 0.999;
  if (name == "max")
    return 1.0;
  return std::nullopt;
}

/// Splits `worker.NAME.FIELD`; NAME may contain dots.
bool split_worker(const std::string& m, std::string& name, std::string& field) {
  if (!starts_with(m, "worker."))
    return false;
  auto dot = m.rfind('.');
  if (dot <= 7)
    return false;
  name = m.substr(7, dot - 7);
  field = m.substr(dot + 1);
  return true;
}

bool disturbed(const request_record& r, int64_t late_ns) {
  return r.result != outcome::ok || r.done_ns - r.sent_ns > late_ns;
}

/// When the client could know that `r` went wrong.
int64_t event_time(const request_record& r, int64_t late_ns) {
  switch (r.result) {
  case outcome::unsent:
    return r.sent_ns;
  case outcome::lost:
  case outcome::pending:
    return r.sent_ns + late_ns;
  default:
    return r.done_ns;
  }
}

} // namespace

counts count(const load_result& res, int64_t from_ns, int64_t to_ns) {
  counts c;
  for (auto& r : res.requests) {
    if (r.sent_ns < from_ns || (to_ns >= 0 && r.sent_ns >= to_ns))
      continue;
    if (r.result == outcome::unsent) {
      ++c.unsent;
      continue;
    }
    ++c.sent;
    if (r.replies > 1)
      ++c.duplicated;
    switch (r.result) {
    case outcome::ok:
      ++c.ok;
      c.wrong_outputs += r.wrong_output ? 1 : 0;
      ++c.worker_ok[res.workers[r.worker]];
      c.ok_latency.push_back(r.done_ns - r.sent_ns);
      break;
    case outcome::error:
      ++c.errors;
      ++c.by_code[to_string(static_cast<errc>(r.code))];
      c.error_latency.push_back(r.done_ns - r.sent_ns);
      break;
    case outcome::disconnected:
      ++c.disconnected;
      break;
    default:
      ++c.lost;
      break;
    }
  }
  return c;
}

fault_timing timing(const load_result& res, int64_t fault_ns, int64_t late_ns) {
  fault_timing out;
  out.fault_ns = fault_ns;
  if (fault_ns < 0)
    return out;
  int64_t first_seen = -1; // first observed (replied or dropped) disturbance
  int64_t first_any = -1;
  int64_t last = -1;
  for (auto& r : res.requests) {
    if (!disturbed(r, late_ns))
      continue;
    auto e = event_time(r, late_ns);
    if (e < fault_ns)
      continue;
    ++out.disturbed;
    bool seen = r.result == outcome::ok || r.result == outcome::error ||
                r.result == outcome::disconnected;
    if (seen && (first_seen < 0 || e < first_seen))
      first_seen = e;
    if (first_any < 0 || e < first_any)
      first_any = e;
    last = std::max(last, e);
  }
  if (out.disturbed == 0)
    return out; // masked, or the fault hit nothing: both stay undefined
  out.detection_ns = (first_seen >= 0 ? first_seen : first_any) - fault_ns;
  for (auto& r : res.requests)
    if (!disturbed(r, late_ns) && r.done_ns > last) {
      out.recovered = true;
      break;
    }
  if (out.recovered)
    out.recovery_ns = last - fault_ns;
  return out;
}

double quantile_ms(std::vector<int64_t>& xs, double q) {
  if (xs.empty())
    return 0;
  auto k = static_cast<size_t>(std::ceil(q * static_cast<double>(xs.size())));
  k = k == 0 ? 0 : k - 1;
  std::nth_element(xs.begin(), xs.begin() + static_cast<long>(k), xs.end());
  return static_cast<double>(xs[k]) / ms_ns;
}

std::optional<double> metric_value(const std::string& m,
                                   const std::optional<time_window>& window,
                                   const run_facts& facts, std::string& why) {
  auto& f = facts.fault;
  if (m == "detection_ms" || m == "recovery_ms") {
    if (f.fault_ns < 0) {
      why = "no disruptive step ran";
      return std::nullopt;
    }
    if (f.disturbed == 0) {
      why = "no request was disturbed: nothing to detect (a masked fault, "
            "or one that hit nothing)";
      return std::nullopt;
    }
    if (m == "recovery_ms" && !f.recovered) {
      why = "never recovered: the last requests were still disturbed";
      return std::nullopt;
    }
    auto ns = m == "detection_ms" ? f.detection_ns : f.recovery_ns;
    return static_cast<double>(ns) / ms_ns;
  }
  if (m == "disturbed")
    return static_cast<double>(f.disturbed);
  if (m == "steps_failed")
    return facts.steps_failed;
  if (m == "unknown_replies")
    return static_cast<double>(facts.load->unknown_replies);
  if (m == "bad_replies")
    return static_cast<double>(facts.load->bad_replies);
  if (m == "late_duplicates")
    return static_cast<double>(facts.load->late_duplicates);
  if (m == "drops") {
    double n = 0;
    for (auto& e : facts.load->events)
      n += e.up ? 0 : 1;
    return n;
  }
  if (starts_with(m, "settle_ms.")) {
    auto i = facts.settle_ms.find(m.substr(10));
    if (i == facts.settle_ms.end()) {
      why = "the wait-workers step did not reach its count";
      return std::nullopt;
    }
    return i->second;
  }
  if (starts_with(m, "exit.")) {
    auto i = facts.exits.find(m.substr(5));
    if (i == facts.exits.end()) {
      why = "unknown node";
      return std::nullopt;
    }
    return i->second;
  }
  auto from = window ? window->from_ms * ms_ns : int64_t{0};
  auto to = window && window->to_ms >= 0 ? window->to_ms * ms_ns : int64_t{-1};
  auto c = count(*facts.load, from, to);
  if (m == "sent")
    return static_cast<double>(c.sent);
  if (m == "ok")
    return static_cast<double>(c.ok);
  if (m == "errors")
    return static_cast<double>(c.errors);
  if (m == "lost")
    return static_cast<double>(c.lost);
  if (m == "disconnected")
    return static_cast<double>(c.disconnected);
  if (m == "duplicated")
    return static_cast<double>(c.duplicated);
  if (m == "unsent")
    return static_cast<double>(c.unsent);
  if (m == "wrong_outputs")
    return static_cast<double>(c.wrong_outputs);
  if (starts_with(m, "errors.")) {
    auto i = c.by_code.find(m.substr(7));
    return i == c.by_code.end() ? 0.0 : static_cast<double>(i->second);
  }
  if (starts_with(m, "latency_ms."))
    return quantile_ms(c.ok_latency, *quantile_of(m.substr(11)));
  if (starts_with(m, "error_latency_ms."))
    return quantile_ms(c.error_latency, *quantile_of(m.substr(17)));
  std::string name, field;
  if (split_worker(m, name, field)) {
    auto i = c.worker_ok.find(name);
    auto n = i == c.worker_ok.end() ? 0.0 : static_cast<double>(i->second);
    if (field == "ok")
      return n;
    return c.ok == 0 ? 0.0 : n / static_cast<double>(c.ok);
  }
  why = "unknown metric";
  return std::nullopt;
}

bool valid_metric(const std::string& m, bool windowed, const scenario& sc,
                  std::string& why) {
  static constexpr const char* counted[] = {
      "sent",         "ok",         "errors", "lost",
      "disconnected", "duplicated", "unsent", "wrong_outputs"};
  static constexpr const char* whole_run[] = {
      "detection_ms", "recovery_ms",     "disturbed",   "steps_failed",
      "drops",        "unknown_replies", "bad_replies", "late_duplicates"};
  auto fixed = [&](auto& names) {
    return std::any_of(std::begin(names), std::end(names),
                       [&](const char* x) { return m == x; });
  };
  bool per_window = fixed(counted);
  if (!per_window && starts_with(m, "errors.")) {
    auto code = m.substr(7);
    if (code == "none" || to_string(errc_from_string(code)) != code) {
      why = "unknown error code `" + code + "` (see docs/protocol.md)";
      return false;
    }
    per_window = true;
  }
  if (!per_window && starts_with(m, "latency_ms."))
    per_window = quantile_of(m.substr(11)).has_value();
  if (!per_window && starts_with(m, "error_latency_ms."))
    per_window = quantile_of(m.substr(17)).has_value();
  std::string name, field;
  if (!per_window && split_worker(m, name, field))
    per_window = !name.empty() && (field == "ok" || field == "share");
  if (per_window)
    return true;
  bool whole = fixed(whole_run);
  if (!whole && starts_with(m, "exit.")) {
    if (sc.find(m.substr(5)) == nullptr) {
      why = "exit." + m.substr(5) + ": no such node";
      return false;
    }
    whole = true;
  }
  if (!whole && starts_with(m, "settle_ms.")) {
    auto label = m.substr(10);
    whole = std::any_of(sc.steps.begin(), sc.steps.end(),
                        [&](const step& s) { return s.label == label; });
    if (!whole) {
      why = m + ": no `wait-workers ... as=" + label + "` step";
      return false;
    }
  }
  if (!whole) {
    why = "unknown metric `" + m + "` (see docs/chaos.md, Metrics)";
    return false;
  }
  if (windowed) {
    why = "metric `" + m + "` takes no @window";
    return false;
  }
  return true;
}

} // namespace dine::chaos
