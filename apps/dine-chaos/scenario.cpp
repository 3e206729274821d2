#include "scenario.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <set>
#include <sstream>

#include "lex.hpp"
#include "metrics.hpp"
#include "placeholders.hpp"
#include "steps.hpp"

namespace dine::chaos {

namespace {

constexpr int64_t default_wait_exit_ms = 10000;

class parser {
public:
  explicit parser(scenario& out) : out_(out) {
    // nop
  }

  void line(const std::vector<std::string>& w) {
    auto& cmd = w[0];
    if (cmd == "set")
      parse_set(w);
    else if (cmd == "netns")
      parse_netns(w);
    else if (cmd == "host")
      parse_host(w);
    else if (cmd == "node")
      parse_node(w);
    else if (cmd == "load")
      parse_load(w);
    else if (cmd == "at")
      out_.steps.push_back(parse_step(w, line_no_, out_));
    else if (cmd == "expect")
      parse_expect(w);
    else
      fail("unknown command `" + cmd +
           "` (expected set, netns, host, node, load, at or expect)");
  }

  /// Checks what needs the whole file; errors carry the line concerned.
  void finish() {
    for (auto& name : netns_)
      if (out_.find(name) == nullptr && !out_.is_host(name))
        fail("netns " + name + ": no `node " + name + "` line follows");
    auto& ld = out_.load;
    if (ld.present) {
      line_no_ = ld.line;
      if (ld.target.empty()) {
        for (auto& n : out_.nodes)
          if (n.coordinator) {
            ld.target = n.name;
            break;
          }
        if (ld.target.empty())
          fail("load: no coordinator node to send to (give target=NODE)");
      }
      auto n = out_.find(ld.target);
      if (n == nullptr || !n->coordinator)
        fail("load: target `" + ld.target + "` is not a declared coordinator");
      if (ld.depth == 0)
        ld.depth = ld.rate > 0 ? 4096 : 1;
    }
    for (auto& s : out_.steps) {
      line_no_ = s.line;
      if (s.timeout_ms < 0)
        s.timeout_ms = s.kind == step_kind::wait_ready
                           ? out_.set.ready_timeout_ms
                           : default_wait_exit_ms;
      if ((s.kind == step_kind::fault || s.kind == step_kind::op ||
           s.kind == step_kind::wait_workers) &&
          s.node.empty()) {
        s.node = ld.present ? ld.target : first_coordinator();
        if (s.node.empty())
          fail("no coordinator to send the admin request to (target=NODE)");
      }
    }
    std::stable_sort(
        out_.steps.begin(), out_.steps.end(),
        [](const step& a, const step& b) { return a.at_ms < b.at_ms; });
    for (auto& e : out_.expects) {
      line_no_ = e.line;
      std::string why;
      if (!valid_metric(e.metric, e.window.has_value(), out_, why))
        fail(why);
    }
  }

  int line_no_ = 0;

private:
  std::string first_coordinator() const {
    for (auto& n : out_.nodes)
      if (n.coordinator)
        return n.name;
    return {};
  }

  void parse_set(const std::vector<std::string>& w) {
    if (w.size() < 2)
      fail("set: expected KEY=VALUE ...");
    for (size_t i = 1; i < w.size(); ++i) {
      auto [k, v] = key_value(w[i]);
      auto& s = out_.set;
      if (k == "grace")
        s.grace_ms = to_duration(k, v);
      else if (k == "quiet")
        s.quiet_ms = to_duration(k, v);
      else if (k == "ready_timeout")
        s.ready_timeout_ms = to_duration(k, v);
      else if (k == "late")
        s.late_ms = to_duration(k, v);
      else if (k == "reconnect")
        s.reconnect_ms = to_duration(k, v);
      else if (k == "step_timeout")
        s.step_timeout_ms = to_duration(k, v);
      else
        fail("set: unknown key `" + k +
             "` (grace, quiet, ready_timeout, late, reconnect, "
             "step_timeout)");
    }
  }

  void parse_host(const std::vector<std::string>& w) {
    if (w.size() != 2 || !valid_name(w[1]))
      fail("host: expected `host NAME`");
    if (w[1] == "port" || w[1] == "self")
      fail("host: `" + w[1] + "` is reserved for placeholders");
    if (out_.find(w[1]) != nullptr || netns_.count(w[1]) > 0)
      fail("host " + w[1] + ": the name is taken");
    netns_.insert(w[1]);
    out_.hosts.push_back(w[1]);
  }

  void parse_netns(const std::vector<std::string>& w) {
    if (w.size() != 2 || !valid_name(w[1]))
      fail("netns: expected `netns NODE` before that node's `node` line");
    if (out_.is_host(w[1]))
      fail("netns " + w[1] + ": is a host");
    if (out_.find(w[1]) != nullptr)
      fail("netns " + w[1] + ": must come before `node " + w[1] + "`");
    if (!netns_.insert(w[1]).second)
      fail("netns " + w[1] + ": declared twice");
  }

  void parse_node(const std::vector<std::string>& w) {
    if (w.size() < 2)
      fail("node: expected `node NAME [host=H] [start=later] --flag=value "
           "...` (NAME: letters, digits, _ or -, or a group NAME[A..B])");
    node_decl proto;
    proto.line = line_no_;
    proto.coordinator = true; // the default role is `all`
    size_t i = 2;
    for (; i < w.size() && w[i].compare(0, 2, "--") != 0; ++i) {
      auto [k, v] = key_value(w[i]);
      if (k == "host") {
        if (!out_.is_host(v))
          fail("node " + w[1] + ": host=" + v + " needs a `host " + v +
               "` line before it");
        proto.host = v;
      } else if (k == "start") {
        if (v != "later")
          fail("node " + w[1] + ": start=later is the only start option");
        proto.later = true;
      } else {
        fail("node " + w[1] + ": unknown key `" + k +
             "` (host, start; flags start with --)");
      }
    }
    for (auto& name : expand_group(w[1])) {
      if (name == "port" || name == "self")
        fail("node: `" + name + "` is reserved for placeholders");
      if (out_.find(name) != nullptr || out_.is_host(name))
        fail("node " + name + ": declared twice");
      auto n = proto;
      n.name = name;
      n.netns = netns_.count(name) > 0;
      if (n.netns && !n.host.empty())
        fail("node " + name + ": has a `netns` line and host=");
      if (!n.host.empty())
        netns_.insert(name); // {NAME.addr}: its host's
      for (size_t j = i; j < w.size(); ++j)
        parse_flag(n, w[j]);
      out_.nodes.push_back(std::move(n));
    }
  }

  void parse_flag(node_decl& n, const std::string& f) {
    if (f.compare(0, 2, "--") != 0)
      fail("node " + n.name + ": flags start with --, got `" + f + "`");
    if (f.compare(0, 13, "--ready-file=") == 0 || f == "--ready-file")
      fail("node " + n.name + ": dine-chaos sets --ready-file itself");
    if (f.compare(0, 7, "--role=") == 0) {
      auto roles = f.substr(7);
      n.coordinator = roles.find("coordinator") != std::string::npos ||
                      roles.find("all") != std::string::npos;
    }
    std::string why;
    if (!check_placeholders(f, n, out_, netns_, why))
      fail("node " + n.name + ": " + why);
    n.flags.push_back(f);
  }

  void parse_load(const std::vector<std::string>& w) {
    auto& ld = out_.load;
    if (ld.present)
      fail("load: only one load line is supported");
    ld.present = true;
    ld.line = line_no_;
    for (size_t i = 1; i < w.size(); ++i) {
      auto [k, v] = key_value(w[i]);
      if (k == "model")
        ld.model = v;
      else if (k == "connections")
        ld.connections = to_uint(k, v, 1, 1024);
      else if (k == "depth")
        ld.depth = to_uint(k, v, 1, 1u << 20);
      else if (k == "rate")
        ld.rate = to_double(k, v);
      else if (k == "duration")
        ld.duration_ms = to_duration(k, v);
      else if (k == "deadline_ms")
        ld.deadline_ms = static_cast<uint32_t>(to_uint(k, v, 0, 3600000));
      else if (k == "target")
        ld.target = v;
      else if (k == "cache")
        ld.cache = to_bool(k, v);
      else
        fail("load: unknown key `" + k +
             "` (model, connections, depth, rate, duration, deadline_ms, "
             "target, cache)");
    }
    if (ld.model.empty())
      fail("load: model must not be empty");
    if (ld.rate < 0 || ld.rate > 1e6)
      fail("load: rate must be 0..1000000 requests/s");
    if (ld.duration_ms <= 0)
      fail("load: duration=DUR is required and must be positive");
  }

  void parse_expect(const std::vector<std::string>& w) {
    if (w.size() != 4)
      fail("expect: expected `expect METRIC[@FROM..TO] OP NUMBER`");
    expectation e;
    e.line = line_no_;
    e.text = w[1] + " " + w[2] + " " + w[3];
    auto at = w[1].find('@');
    e.metric = w[1].substr(0, at);
    if (at != std::string::npos) {
      auto win = w[1].substr(at + 1);
      auto dots = win.find("..");
      if (dots == std::string::npos)
        fail("expect: a window is written @FROM..TO, @FROM.. or @..TO");
      time_window tw;
      auto from = win.substr(0, dots);
      auto to = win.substr(dots + 2);
      if (!from.empty())
        tw.from_ms = to_duration("window start", from);
      if (!to.empty())
        tw.to_ms = to_duration("window end", to);
      if (tw.to_ms >= 0 && tw.to_ms <= tw.from_ms)
        fail("expect: the window's end must come after its start");
      e.window = tw;
    }
    static constexpr std::pair<const char*, cmp_op> ops[] = {
        {"==", cmp_op::eq}, {"!=", cmp_op::ne}, {"<", cmp_op::lt},
        {"<=", cmp_op::le}, {">", cmp_op::gt},  {">=", cmp_op::ge},
    };
    auto op = std::find_if(std::begin(ops), std::end(ops),
                           [&](auto& x) { return w[2] == x.first; });
    if (op == std::end(ops))
      fail("expect: unknown comparison `" + w[2] + "` (==, !=, <, <=, >, >=)");
    e.op = op->second;
    e.value = to_double("expect: the bound", w[3]);
    out_.expects.push_back(std::move(e));
  }

  scenario& out_;
  std::set<std::string> netns_;
};

} // namespace

const char* to_string(cmp_op x) {
  static constexpr const char* names[] = {"==", "!=", "<", "<=", ">", ">="};
  return names[static_cast<int>(x)];
}

bool compare(double lhs, cmp_op x, double rhs) {
  switch (x) {
  case cmp_op::eq:
    return lhs == rhs;
  case cmp_op::ne:
    return lhs != rhs;
  case cmp_op::lt:
    return lhs < rhs;
  case cmp_op::le:
    return lhs <= rhs;
  case cmp_op::gt:
    return lhs > rhs;
  case cmp_op::ge:
    return lhs >= rhs;
  }
  return false;
}

bool scenario::is_host(const std::string& name) const {
  return std::find(hosts.begin(), hosts.end(), name) != hosts.end();
}

const node_decl* scenario::find(const std::string& name) const {
  for (auto& n : nodes)
    if (n.name == name)
      return &n;
  return nullptr;
}

std::optional<parse_error> parse_scenario(const std::string& text,
                                          scenario& out) {
  out = scenario{};
  parser p{out};
  std::istringstream in{text};
  std::string line;
  try {
    while (std::getline(in, line)) {
      ++p.line_no_;
      auto words = split_words(line);
      if (!words.empty())
        p.line(words);
    }
    p.finish();
  } catch (syntax_error& e) {
    return parse_error{p.line_no_, std::move(e.message)};
  }
  return std::nullopt;
}

} // namespace dine::chaos
