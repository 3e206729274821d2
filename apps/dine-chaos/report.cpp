#include "report.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "messages/errc.hpp"

namespace dine::chaos {

namespace {

/// Past this many workers, timeline and summary lines give only the count
/// (a 256-worker run would print lines of several kilobytes); `--json`
/// always has every worker.
constexpr size_t max_listed_workers = 16;

constexpr int64_t ms_ns = 1000000;
constexpr int64_t s_ns = 1000000000;

std::string fixed(double x, int digits) {
  char buf[64];
  snprintf(buf, sizeof(buf), "%.*f", digits, x);
  return buf;
}

/// Integers without decimals, anything else with three.
std::string number(double x) {
  return fixed(x, std::floor(x) == x ? 0 : 3);
}

std::string code_list(const std::map<std::string, uint64_t>& m) {
  std::string out;
  for (auto& [k, v] : m)
    out += (out.empty() ? "" : ", ") + k + ": " + std::to_string(v);
  return out;
}

/// Per-second counters of the load.
struct second {
  uint64_t sent = 0, unsent = 0, ok = 0, errors = 0, disc = 0, lost = 0;
  uint64_t drops = 0, ups = 0;
  std::map<std::string, uint64_t> codes;
  std::map<std::string, uint64_t> workers;
  std::vector<int64_t> latency;
};

void add_load_lines(std::vector<timeline_event>& events,
                    const load_result& load) {
  std::vector<second> secs;
  auto at = [&](int64_t ns) -> second& {
    auto i = static_cast<size_t>(std::max<int64_t>(0, ns) / s_ns);
    if (i >= secs.size())
      secs.resize(i + 1);
    return secs[i];
  };
  for (auto& r : load.requests) {
    switch (r.result) {
    case outcome::unsent:
      ++at(r.sent_ns).unsent;
      continue;
    case outcome::ok: {
      auto& s = at(r.done_ns);
      ++s.ok;
      ++s.workers[load.workers[r.worker]];
      s.latency.push_back(r.done_ns - r.sent_ns);
      break;
    }
    case outcome::error: {
      auto& s = at(r.done_ns);
      ++s.errors;
      ++s.codes[to_string(static_cast<errc>(r.code))];
      break;
    }
    case outcome::disconnected:
      ++at(r.done_ns).disc;
      break;
    default:
      ++at(r.sent_ns).lost;
      break;
    }
    ++at(r.sent_ns).sent;
  }
  // Connection events: one line per burst of the same kind and reason.
  for (size_t i = 0; i < load.events.size();) {
    auto& e = load.events[i];
    size_t j = i + 1;
    while (j < load.events.size() && load.events[j].up == e.up &&
           load.events[j].what == e.what &&
           load.events[j].at_ns - e.at_ns < 100 * ms_ns)
      ++j;
    auto n = j - i;
    (e.up ? at(e.at_ns).ups : at(e.at_ns).drops) += n;
    events.push_back({e.at_ns, "client: " + std::to_string(n) + " connection" +
                                   (n > 1 ? "s " : " ") +
                                   (e.up ? "up to " : "dropped: ") + e.what});
    i = j;
  }
  for (size_t i = 0; i < secs.size(); ++i) {
    auto& s = secs[i];
    std::string line =
        "load [" + std::to_string(i) + "s.." + std::to_string(i + 1) +
        "s) sent=" + std::to_string(s.sent) + " ok=" + std::to_string(s.ok) +
        " errors=" + std::to_string(s.errors);
    if (!s.codes.empty())
      line += " {" + code_list(s.codes) + "}";
    if (s.disc > 0)
      line += " disconnected=" + std::to_string(s.disc);
    if (s.lost > 0)
      line += " lost=" + std::to_string(s.lost);
    if (s.unsent > 0)
      line += " unsent=" + std::to_string(s.unsent);
    if (s.drops > 0 || s.ups > 0)
      line +=
          " drops=" + std::to_string(s.drops) + " ups=" + std::to_string(s.ups);
    if (!s.latency.empty())
      line += " p50=" + fixed(quantile_ms(s.latency, 0.5), 1) +
              "ms p99=" + fixed(quantile_ms(s.latency, 0.99), 1) + "ms";
    if (s.workers.size() > max_listed_workers)
      line += " workers {" + std::to_string(s.workers.size()) + " served}";
    else if (!s.workers.empty())
      line += " workers {" + code_list(s.workers) + "}";
    // Sorted after the events of the same second.
    events.push_back({static_cast<int64_t>(i + 1) * s_ns - 1, line});
  }
}

} // namespace

std::vector<expect_result> evaluate(const scenario& sc, const run_facts& f) {
  std::vector<expect_result> out;
  for (auto& e : sc.expects) {
    expect_result r;
    r.expect = &e;
    r.value = metric_value(e.metric, e.window, f, r.why);
    r.pass = r.value && compare(*r.value, e.op, e.value);
    out.push_back(std::move(r));
  }
  return out;
}

std::string format_time(int64_t ns) {
  char buf[32];
  auto ms = ns / ms_ns;
  snprintf(buf, sizeof(buf), "%s%" PRId64 ".%03" PRId64 "s", ms < 0 ? "-" : "+",
           std::abs(ms) / 1000, std::abs(ms) % 1000);
  return buf;
}

void print_timeline(std::ostream& os, std::vector<timeline_event> events,
                    const load_result& load) {
  add_load_lines(events, load);
  std::stable_sort(events.begin(), events.end(),
                   [](auto& a, auto& b) { return a.at_ns < b.at_ns; });
  os << "timeline:\n";
  for (auto& e : events) {
    bool tick = e.text.compare(0, 5, "load ") == 0;
    os << "  " << (tick ? std::string(8, ' ') : format_time(e.at_ns)) << "  "
       << e.text << "\n";
  }
}

std::string summary_line(const run_facts& f) {
  auto c = count(*f.load, 0, -1);
  std::ostringstream os;
  os << "summary: sent=" << c.sent << " ok=" << c.ok << " errors=" << c.errors;
  if (!c.by_code.empty())
    os << " {" << code_list(c.by_code) << "}";
  os << " lost=" << c.lost << " disconnected=" << c.disconnected
     << " duplicated=" << c.duplicated << " unsent=" << c.unsent
     << " wrong_outputs=" << c.wrong_outputs;
  auto& t = f.fault;
  if (t.fault_ns < 0)
    os << " detection_ms=n/a recovery_ms=n/a";
  else if (t.disturbed == 0)
    os << " detection_ms=n/a recovery_ms=n/a (masked) disturbed=0";
  else
    os << " detection_ms=" << t.detection_ns / ms_ns << " recovery_ms="
       << (t.recovered ? std::to_string(t.recovery_ns / ms_ns) : "never")
       << " disturbed=" << t.disturbed;
  os << " latency_ms{p50=" << fixed(quantile_ms(c.ok_latency, 0.5), 1)
     << " p99=" << fixed(quantile_ms(c.ok_latency, 0.99), 1)
     << " max=" << fixed(quantile_ms(c.ok_latency, 1.0), 1) << "}";
  if (c.worker_ok.size() > max_listed_workers) {
    os << " workers{" << c.worker_ok.size() << " served}";
  } else if (!c.worker_ok.empty()) {
    os << " workers{";
    bool first = true;
    for (auto& [w, n] : c.worker_ok) {
      os << (first ? "" : " ") << (w.empty() ? "-" : w) << "="
         << fixed(static_cast<double>(n) / static_cast<double>(c.ok), 2);
      first = false;
    }
    os << "}";
  }
  if (f.load->unknown_replies + f.load->bad_replies > 0)
    os << " unknown_replies=" << f.load->unknown_replies
       << " bad_replies=" << f.load->bad_replies;
  if (f.steps_failed > 0)
    os << " steps_failed=" << f.steps_failed;
  return os.str();
}

bool print_expects(std::ostream& os, const std::vector<expect_result>& rs) {
  bool all = true;
  for (auto& r : rs) {
    os << (r.pass ? "PASS" : "FAIL") << "  expect " << r.expect->text << "  ("
       << r.expect->metric << " = "
       << (r.value ? number(*r.value) : "undefined: " + r.why) << ")  [line "
       << r.expect->line << "]\n";
    all = all && r.pass;
  }
  return all;
}

nlohmann::json summary_json(const run_facts& f,
                            const std::vector<expect_result>& rs,
                            const std::vector<timeline_event>& events,
                            bool passed) {
  auto c = count(*f.load, 0, -1);
  nlohmann::json j;
  j["passed"] = passed;
  j["sent"] = c.sent;
  j["ok"] = c.ok;
  j["errors"] = c.errors;
  j["errors_by_code"] = c.by_code;
  j["lost"] = c.lost;
  j["disconnected"] = c.disconnected;
  j["duplicated"] = c.duplicated;
  j["unsent"] = c.unsent;
  j["wrong_outputs"] = c.wrong_outputs;
  j["late_duplicates"] = f.load->late_duplicates;
  j["unknown_replies"] = f.load->unknown_replies;
  j["bad_replies"] = f.load->bad_replies;
  auto& t = f.fault;
  j["detection_ms"] = nullptr;
  j["recovery_ms"] = nullptr;
  if (t.fault_ns >= 0) {
    j["fault_at_ms"] = t.fault_ns / ms_ns;
    if (t.disturbed > 0)
      j["detection_ms"] = t.detection_ns / ms_ns;
    if (t.recovered)
      j["recovery_ms"] = t.recovery_ns / ms_ns;
  }
  j["disturbed"] = t.disturbed;
  j["latency_ms"] = {{"p50", quantile_ms(c.ok_latency, 0.5)},
                     {"p99", quantile_ms(c.ok_latency, 0.99)},
                     {"max", quantile_ms(c.ok_latency, 1.0)}};
  auto workers = nlohmann::json::object();
  for (auto& [w, n] : c.worker_ok)
    workers[w] = {
        {"ok", n},
        {"share", static_cast<double>(n) / static_cast<double>(c.ok)}};
  j["workers"] = workers;
  j["exit"] = f.exits;
  j["steps_failed"] = f.steps_failed;
  j["settle_ms"] = f.settle_ms;
  auto steps = nlohmann::json::array();
  for (auto& e : events)
    steps.push_back({{"at_ms", e.at_ns / ms_ns}, {"event", e.text}});
  j["events"] = steps;
  auto ex = nlohmann::json::array();
  for (auto& r : rs) {
    nlohmann::json x{
        {"expect", r.expect->text}, {"line", r.expect->line}, {"pass", r.pass}};
    x["value"] = r.value ? nlohmann::json(*r.value) : nlohmann::json(nullptr);
    if (!r.value)
      x["why"] = r.why;
    ex.push_back(std::move(x));
  }
  j["expects"] = ex;
  return j;
}

} // namespace dine::chaos
