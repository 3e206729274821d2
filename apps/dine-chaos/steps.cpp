#include "steps.hpp"

#include <algorithm>
#include <csignal>
#include <set>

#include "lex.hpp"
#include "placeholders.hpp"

namespace dine::chaos {

namespace {

constexpr const char* fault_kinds[] = {"off",  "crash", "crash_on_start",
                                       "hang", "error", "slow"};

const node_decl& known_node(const scenario& sc, const std::string& name) {
  auto n = sc.find(name);
  if (n == nullptr)
    fail("unknown node `" + name + "`");
  return *n;
}

std::string target(const std::string& word, const scenario& sc);

/// Expands a node or a group `NAME[A..B]`; every node must be declared.
std::vector<std::string> known_nodes(const scenario& sc,
                                     const std::string& word) {
  auto names = expand_group(word);
  for (auto& n : names)
    known_node(sc, n);
  return names;
}

/// Parses the `timeout=DUR` at `args[i]` if there is one.
void parse_timeout(const std::vector<std::string>& args, size_t i,
                   const std::string& action, step& s) {
  if (i >= args.size())
    return;
  auto [k, v] = key_value(args[i]);
  if (k != "timeout")
    fail(action + ": unknown key `" + k + "` (timeout)");
  s.timeout_ms = to_duration(k, v);
}

void parse_wait_workers(const std::vector<std::string>& args,
                        const scenario& sc, step& s) {
  if (args.empty())
    fail("wait-workers: expected `wait-workers COUNT [as=LABEL] "
         "[timeout=DUR] [target=NODE]`");
  s.kind = step_kind::wait_workers;
  s.count = to_uint("wait-workers: COUNT", args[0], 0, 1u << 20);
  s.timeout_ms = 30000;
  for (size_t i = 1; i < args.size(); ++i) {
    auto [k, v] = key_value(args[i]);
    if (k == "as") {
      if (!valid_name(v))
        fail("wait-workers: as=LABEL takes letters, digits, _ or -");
      for (auto& x : sc.steps)
        if (x.label == v)
          fail("wait-workers: label `" + v + "` is used twice");
      s.label = v;
    } else if (k == "timeout") {
      s.timeout_ms = to_duration(k, v);
    } else if (k == "target") {
      s.node = target(args[i], sc);
    } else {
      fail("wait-workers: unknown key `" + k + "` (as, timeout, target)");
    }
  }
}

/// Parses `target=NODE`; NODE must be a declared coordinator.
std::string target(const std::string& word, const scenario& sc) {
  auto [k, v] = key_value(word);
  if (k != "target")
    fail("expected target=NODE, got `" + word + "`");
  auto& n = known_node(sc, v);
  if (!n.coordinator)
    fail("target `" + v + "` is not a coordinator");
  return n.name;
}

void parse_fault(const std::vector<std::string>& args, const scenario& sc,
                 step& s) {
  s.kind = step_kind::fault;
  bool have_model = false;
  bool have_kind = false;
  for (auto& word : args) {
    auto [k, v] = key_value(word);
    if (k == "target") {
      s.node = target(word, sc);
      continue;
    }
    if (k == "model") {
      have_model = !v.empty();
    } else if (k == "kind") {
      have_kind = true;
      if (std::find_if(std::begin(fault_kinds), std::end(fault_kinds),
                       [&](const char* x) { return v == x; }) ==
          std::end(fault_kinds))
        fail("fault: unknown kind `" + v +
             "` (off, crash, crash_on_start, hang, error, slow)");
    } else if (k == "rate") {
      auto r = to_double(k, v);
      if (r < 0 || r > 1)
        fail("fault: rate must be 0..1, got `" + v + "`");
    } else if (k == "count" || k == "slow_ms") {
      to_uint(k, v, 0, UINT32_MAX);
    } else if (k == "worker") {
      if (v.empty())
        fail("fault: worker must not be empty");
    } else {
      fail("fault: unknown key `" + k +
           "` (model, kind, rate, count, slow_ms, worker, target)");
    }
    s.params.emplace_back(k, v);
  }
  if (!have_model || !have_kind)
    fail("fault: model=NAME and kind=KIND are required");
}

} // namespace

bool step::disruptive() const {
  switch (kind) {
  case step_kind::signal:
    return sig != SIGCONT;
  case step_kind::link_down:
    return true;
  case step_kind::fault:
    for (auto& [k, v] : params)
      if (k == "kind")
        return v != "off";
    return false;
  default:
    return false;
  }
}

step parse_step(const std::vector<std::string>& w, int line,
                const scenario& sc) {
  if (w.size() < 3)
    fail("at: expected `at TIME ACTION ...`");
  step s;
  s.line = line;
  s.at_ms = to_duration("at", w[1]);
  for (size_t i = 2; i < w.size(); ++i)
    s.text += (i > 2 ? " " : "") + w[i];
  auto& a = w[2];
  auto args = std::vector<std::string>(w.begin() + 3, w.end());
  auto need = [&](size_t lo, size_t hi, const char* usage) {
    if (args.size() < lo || args.size() > hi)
      fail(a + ": expected `" + usage + "`");
  };
  if (a == "signal") {
    need(2, 2, "signal NODE KILL|STOP|CONT|TERM|INT|HUP|QUIT|USR1|USR2");
    s.kind = step_kind::signal;
    s.nodes = known_nodes(sc, args[0]);
    s.sig = signal_number(args[1]);
    if (s.sig == 0)
      fail("signal: unknown signal `" + args[1] + "`");
  } else if (a == "restart" || a == "start") {
    need(1, 1, a == "start" ? "start NODE" : "restart NODE");
    s.kind = a == "start" ? step_kind::start : step_kind::restart;
    s.nodes = known_nodes(sc, args[0]);
  } else if (a == "link") {
    need(2, 2, "link down|up NODE|HOST");
    if (args[0] != "down" && args[0] != "up")
      fail("link: expected down or up, got `" + args[0] + "`");
    s.kind = args[0] == "down" ? step_kind::link_down : step_kind::link_up;
    if (sc.is_host(args[1])) {
      s.node = args[1];
    } else {
      s.nodes = known_nodes(sc, args[1]);
      for (auto& n : s.nodes)
        if (!known_node(sc, n).netns)
          fail("link: node `" + n + "` has no `netns` line (for a node " +
               "on a host, name the host)");
    }
  } else if (a == "wait-ready" || a == "wait-exit") {
    need(1, 2, "wait-ready|wait-exit NODE [timeout=DUR]");
    s.kind = a == "wait-ready" ? step_kind::wait_ready : step_kind::wait_exit;
    s.nodes = known_nodes(sc, args[0]);
    s.timeout_ms = -1; // the default, resolved by the parser at the end
    parse_timeout(args, 1, a, s);
  } else if (a == "wait-workers") {
    parse_wait_workers(args, sc, s);
  } else if (a == "run") {
    if (args.empty())
      fail("run: expected `run [timeout=DUR] COMMAND ARGS...`");
    s.kind = step_kind::run;
    s.timeout_ms = 600000;
    size_t i = 0;
    if (args[0].compare(0, 8, "timeout=") == 0)
      parse_timeout(args, i++, a, s);
    if (i == args.size())
      fail("run: no command");
    s.argv.assign(args.begin() + static_cast<long>(i), args.end());
    node_decl nobody;
    std::set<std::string> spaces{sc.hosts.begin(), sc.hosts.end()};
    for (auto& n : sc.nodes)
      if (n.netns || !n.host.empty())
        spaces.insert(n.name);
    for (auto& x : s.argv) {
      std::string why;
      if (!check_placeholders(x, nobody, sc, spaces, why))
        fail("run: " + why);
    }
  } else if (a == "fault") {
    parse_fault(args, sc, s);
  } else if (a == "op") {
    need(1, 2, "op health|models|stats [target=NODE]");
    s.kind = step_kind::op;
    s.op = args[0];
    if (s.op != "health" && s.op != "models" && s.op != "stats")
      fail("op: expected health, models or stats, got `" + s.op + "`");
    if (args.size() == 2)
      s.node = target(args[1], sc);
  } else {
    fail("unknown action `" + a +
         "` (signal, start, restart, link, wait-ready, wait-exit, "
         "wait-workers, fault, op, run)");
  }
  if (s.node.empty() && !s.nodes.empty())
    s.node = s.nodes.front();
  if (s.nodes.empty() && !s.node.empty())
    s.nodes = {s.node};
  return s;
}

} // namespace dine::chaos
