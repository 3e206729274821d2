#include "runner.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "admin.hpp"
#include "metrics.hpp"
#include "process.hpp"

namespace fs = std::filesystem;

namespace dine::chaos {

volatile std::sig_atomic_t stop_signal = 0;

namespace {

constexpr int64_t ms_ns = 1000000;
constexpr auto poll_interval = std::chrono::milliseconds{5};
constexpr int64_t wait_workers_poll_ns = 20 * ms_ns;

} // namespace

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

runner::runner(const scenario& sc, run_options opts)
    : sc_(sc), opts_(std::move(opts)), out_(opts_.json ? std::cerr : std::cout),
      nodes_(sc, opts_.node_bin, opts_.verbose,
             [this](std::string text) { event(std::move(text)); }),
      t0_ns_(steady_now_ns()) {
  // nop
}

runner::~runner() {
  cleanup();
}

void runner::event(std::string text, int64_t at_ns) {
  if (at_ns < 0)
    at_ns = steady_now_ns();
  if (opts_.verbose)
    std::cerr << "dine-chaos " << format_time(at_ns - t0_ns_) << "  " << text
              << std::endl;
  events_.push_back({at_ns, std::move(text)});
}

void runner::update_target() {
  if (!sc_.load.present)
    return;
  auto addr = nodes_.client_addr(sc_.load.target);
  std::lock_guard<std::mutex> guard{target_mtx_};
  target_addr_ = addr;
}

bool runner::idle_until(int64_t deadline_ns,
                        const std::function<bool()>& done) {
  for (;;) {
    if (nodes_.poll())
      update_target();
    if (done && done())
      return true;
    if (stop_signal != 0 || steady_now_ns() >= deadline_ns)
      return false;
    std::this_thread::sleep_for(poll_interval);
  }
}

void runner::cleanup() {
  if (load_) {
    load_->abort();
    load_->join();
    load_.reset();
  }
  nodes_.teardown();
}

bool runner::make_workdir() {
  if (!opts_.workdir.empty()) {
    std::error_code ec;
    fs::create_directories(opts_.workdir, ec);
    workdir_ = fs::absolute(opts_.workdir).string();
    return true;
  }
  char tmpl[] = "/tmp/dine-chaos-XXXXXX";
  if (mkdtemp(tmpl) == nullptr)
    return false;
  workdir_ = tmpl;
  own_workdir_ = true;
  return true;
}

bool runner::start_nodes() {
  // Nodes start in declaration order; the nodes of one group (one `node`
  // line) start together, and the next line waits until all are ready.
  auto& all = sc_.nodes;
  for (size_t i = 0; i < all.size();) {
    auto j = i;
    while (j < all.size() && all[j].line == all[i].line)
      ++j;
    std::vector<std::string> names;
    for (auto k = i; k < j; ++k)
      if (!all[k].later)
        names.push_back(all[k].name);
    i = j;
    for (auto& name : names)
      if (auto err = nodes_.start(name); !err.empty()) {
        out_ << "dine-chaos: cannot start node " << name << ": " << err << "\n";
        return false;
      }
    auto settled = [&] {
      for (auto& name : names) {
        auto& f = nodes_.facts(name);
        if (!f.ready && f.running)
          return false;
      }
      return true;
    };
    idle_until(steady_now_ns() + sc_.set.ready_timeout_ms * ms_ns, settled);
    for (auto& name : names) {
      auto& f = nodes_.facts(name);
      if (f.ready)
        continue;
      out_ << "dine-chaos: node " << name
           << (f.running ? " not ready in time" : " exited early") << " (log "
           << nodes_.log_path(name) << "):\n"
           << tail_file(nodes_.log_path(name), 20);
      return false;
    }
  }
  update_target();
  return true;
}

bool runner::start_load() {
  auto& ld = sc_.load;
  load_settings ls;
  ls.model = ld.model;
  ls.connections = ld.connections;
  ls.depth = ld.depth;
  ls.rate = ld.rate;
  ls.duration_ns = ld.duration_ms * ms_ns;
  ls.deadline_ms = ld.deadline_ms;
  ls.cache = ld.cache;
  auto grace = sc_.set.grace_ms >= 0
                   ? sc_.set.grace_ms
                   : (ld.deadline_ms > 0 ? ld.deadline_ms : 10000) + 1000;
  ls.grace_ns = grace * ms_ns;
  // Longer than the deadline: whatever the nodes still hold is answered or
  // dropped by then, so a reply after it is a late duplicate.
  auto quiet = sc_.set.quiet_ms >= 0
                   ? sc_.set.quiet_ms
                   : (ld.deadline_ms > 0 ? ld.deadline_ms : 1000) + 250;
  ls.quiet_ns = quiet * ms_ns;
  ls.reconnect_ns = sc_.set.reconnect_ms * ms_ns;
  load_ = std::make_unique<load_client>(ls, [this] {
    std::lock_guard<std::mutex> guard{target_mtx_};
    return target_addr_;
  });
  if (auto err = load_->connect_all(sc_.set.step_timeout_ms); !err.empty()) {
    out_ << "dine-chaos: the load cannot connect: " << err << "\n";
    return false;
  }
  t0_ns_ = steady_now_ns();
  load_->start(t0_ns_);
  event("load started: " + ld.model + ", " + std::to_string(ld.connections) +
        " connections, " +
        (ld.rate > 0
             ? std::to_string(static_cast<int64_t>(ld.rate)) + " requests/s"
             : "depth " + std::to_string(ld.depth)) +
        " for " + std::to_string(ld.duration_ms) + " ms");
  return true;
}

bool runner::admin_step(const step& s, std::string& detail) {
  auto addr = nodes_.client_addr(s.node);
  if (addr.empty()) {
    detail = "node " + s.node + " is not running and ready";
    return false;
  }
  auto op = s.kind == step_kind::fault ? std::string{"fault"} : s.op;
  auto inputs =
      s.kind == step_kind::fault ? fault_inputs(s.params) : nlohmann::json{};
  nlohmann::json outputs;
  detail = admin_request(addr, op, inputs,
                         std::chrono::milliseconds{sc_.set.step_timeout_ms},
                         outputs);
  if (!detail.empty())
    return false;
  if (s.kind == step_kind::fault && outputs.is_object() &&
      outputs.value("workers", nlohmann::json::array()).empty()) {
    detail = "the fault hook matched no worker (check model= and worker=)";
    return false;
  }
  detail = outputs.dump();
  if (detail.size() > 400)
    detail = detail.substr(0, 400) + "...";
  return true;
}

bool runner::exec_step(const step& s, std::string& detail) {
  auto start = steady_now_ns();
  auto took = [&] {
    return "after " + std::to_string((steady_now_ns() - start) / ms_ns) + " ms";
  };
  // For a group: "N nodes" instead of one pid, the first failure's text.
  auto each = [&](auto f) {
    std::string first_err;
    size_t failed = 0;
    for (auto& n : s.nodes) {
      auto err = f(n);
      if (!err.empty() && failed++ == 0)
        first_err = n + ": " + err;
    }
    if (failed > 0)
      detail = std::to_string(failed) + " of " +
               std::to_string(s.nodes.size()) + " failed, " + first_err;
    else if (s.nodes.size() > 1)
      detail = std::to_string(s.nodes.size()) + " nodes";
    else
      detail = "pid " + std::to_string(nodes_.facts(s.node).pid);
    return failed == 0;
  };
  auto all_of = [&](auto pred) {
    return std::all_of(s.nodes.begin(), s.nodes.end(),
                       [&](auto& n) { return pred(nodes_.facts(n)); });
  };
  switch (s.kind) {
  case step_kind::signal: {
    std::vector<long> pids; // before the signal: a KILL clears the pid
    for (auto& n : s.nodes)
      pids.push_back(nodes_.facts(n).pid);
    bool ok =
        each([&](const std::string& n) { return nodes_.signal(n, s.sig); });
    if (ok && s.nodes.size() == 1)
      detail = "pid " + std::to_string(pids[0]);
    return ok;
  }
  case step_kind::restart:
    return each([&](const std::string& n) {
      nodes_.kill(n, s.nodes.size() == 1 ? "restart" : nullptr);
      return nodes_.start(n);
    });
  case step_kind::start:
    return each([&](const std::string& n) -> std::string {
      if (nodes_.facts(n).running)
        return "already running";
      return nodes_.start(n);
    });
  case step_kind::fault:
  case step_kind::op:
    return admin_step(s, detail);
  case step_kind::link_down:
  case step_kind::link_up:
    return each([&](const std::string& n) {
      return nodes_.set_link(n, s.kind == step_kind::link_up);
    });
  case step_kind::wait_ready: {
    idle_until(start + s.timeout_ms * ms_ns, [&] {
      return all_of([](auto& f) { return f.ready || !f.running; });
    });
    bool ok = each([&](const std::string& n) -> std::string {
      auto& f = nodes_.facts(n);
      return f.ready ? "" : f.running ? "not ready" : "not running";
    });
    detail += ", " + took();
    return ok;
  }
  case step_kind::wait_exit: {
    idle_until(start + s.timeout_ms * ms_ns,
               [&] { return all_of([](auto& f) { return !f.running; }); });
    if (s.nodes.size() == 1 && !nodes_.facts(s.node).running) {
      detail = "exit status " + std::to_string(nodes_.last_exit(s.node)) + " " +
               took();
      return true;
    }
    bool ok = each([&](const std::string& n) -> std::string {
      return nodes_.facts(n).running ? "still running" : "";
    });
    detail += ", " + took();
    return ok;
  }
  case step_kind::wait_workers:
    return wait_workers_step(s, detail);
  case step_kind::run:
    return run_step(s, detail);
  }
  return false;
}

bool runner::wait_workers_step(const step& s, std::string& detail) {
  // Measured from the step's scheduled time, so that `at 5s start ...` and
  // `at 5s wait-workers ...` time the whole join.
  auto from = t0_ns_ + s.at_ms * ms_ns;
  auto deadline = steady_now_ns() + s.timeout_ms * ms_ns;
  int64_t seen = -1;
  std::string last_err;
  for (;;) {
    auto addr = nodes_.client_addr(s.node);
    nlohmann::json out;
    last_err = addr.empty()
                   ? "node " + s.node + " is not running and ready"
                   : admin_request(addr, "health", nullptr,
                                   std::chrono::milliseconds{1000}, out);
    if (last_err.empty() && out.is_object())
      seen = out.value("workers", int64_t{-1});
    if (seen == static_cast<int64_t>(s.count))
      break;
    if (stop_signal != 0 || steady_now_ns() >= deadline) {
      detail = "saw " + std::to_string(seen) + " workers" +
               (last_err.empty() ? "" : " (" + last_err + ")") +
               ", gave up after " + std::to_string(s.timeout_ms) + " ms";
      return false;
    }
    idle_until(steady_now_ns() + wait_workers_poll_ns, nullptr);
  }
  auto ms = static_cast<double>(steady_now_ns() - from) / ms_ns;
  if (!s.label.empty())
    settle_ms_[s.label] = ms;
  detail = std::to_string(s.count) + " workers " +
           std::to_string(static_cast<int64_t>(ms)) + " ms after " +
           format_time(s.at_ms * ms_ns);
  return true;
}

bool runner::run_step(const step& s, std::string& detail) {
  spawn_options so;
  for (auto& w : s.argv) {
    std::string x;
    if (auto err = nodes_.expand(w, x); !err.empty()) {
      detail = err;
      return false;
    }
    so.argv.push_back(x);
  }
  so.log_path = workdir_ + "/run-" + std::to_string(s.line) + ".log";
  auto pid = spawn_process(so, detail);
  if (pid < 0)
    return false;
  int status = 0;
  bool exited = false;
  auto start = steady_now_ns();
  idle_until(start + s.timeout_ms * ms_ns, [&] {
    exited = exited || waitpid(pid, &status, WNOHANG) == pid;
    return exited;
  });
  if (!exited) {
    ::kill(-pid, SIGKILL); // its process group: what it started, too
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      // retry
    }
  }
  detail = describe_status(status) + " after " +
           std::to_string((steady_now_ns() - start) / ms_ns) + " ms, log " +
           so.log_path;
  return exited && exit_code(status) == 0;
}

int runner::run() {
  for (auto& d : sc_.nodes)
    if (d.netns && geteuid() != 0) {
      out_ << "dine-chaos: SKIPPED: `netns " << d.name
           << "` needs root (ip netns add)\n";
      return skipped_status;
    }
  if (!sc_.hosts.empty() && geteuid() != 0) {
    out_ << "dine-chaos: SKIPPED: `host " << sc_.hosts.front()
         << "` needs root (ip netns add)\n";
    return skipped_status;
  }
  if (!make_workdir()) {
    out_ << "dine-chaos: cannot create a temporary directory\n";
    return 1;
  }
  ::setenv("DINE_CHAOS_WORKDIR", workdir_.c_str(), 1); // for `run` steps
  if (auto err = nodes_.setup(workdir_); !err.empty()) {
    out_ << "dine-chaos: " << err << "\n";
    cleanup();
    return 1;
  }
  if (!start_nodes() || (sc_.load.present && !start_load())) {
    cleanup();
    out_ << "node logs: " << workdir_ << "\n";
    return stop_signal != 0 ? 128 + stop_signal : 1;
  }
  if (!sc_.load.present)
    t0_ns_ = steady_now_ns();
  int64_t fault_ns = -1;
  int steps_failed = 0;
  for (auto& s : sc_.steps) {
    idle_until(t0_ns_ + s.at_ms * ms_ns, nullptr);
    if (stop_signal != 0)
      break;
    std::string detail;
    auto began = steady_now_ns(); // the fault's time: before its effects
    bool ok = exec_step(s, detail);
    if (ok && s.disruptive() && fault_ns < 0)
      fault_ns = began - t0_ns_;
    steps_failed += ok ? 0 : 1;
    event("step (line " + std::to_string(s.line) + ") " + s.text + ": " +
              (ok ? "ok" : "FAILED") +
              (detail.empty() ? "" : " (" + detail + ")"),
          began);
  }
  load_result load;
  load.workers.emplace_back();
  if (load_) {
    if (!idle_until(INT64_MAX, [this] { return load_->done(); }))
      load_->abort(); // interrupted
    load = load_->join();
    load_.reset();
    event("load finished");
  }
  if (stop_signal != 0) {
    cleanup();
    out_ << "dine-chaos: interrupted by signal " << stop_signal
         << "; every node was killed\n";
    return 128 + stop_signal;
  }
  return finish(load, fault_ns, steps_failed);
}

int runner::finish(const load_result& load, int64_t fault_ns,
                   int steps_failed) {
  run_facts f;
  f.load = &load;
  f.steps_failed = steps_failed;
  f.exits = nodes_.exits();
  f.settle_ms = settle_ms_;
  cleanup();
  f.fault = timing(load, fault_ns, sc_.set.late_ms * ms_ns);
  std::vector<timeline_event> events;
  for (auto& e : events_)
    events.push_back({e.at_ns - t0_ns_, e.text});
  print_timeline(out_, events, load);
  out_ << summary_line(f) << "\n";
  auto results = evaluate(sc_, f);
  bool passed = print_expects(out_, results) && steps_failed == 0;
  if (steps_failed > 0)
    out_ << "FAIL  " << steps_failed << " step(s) failed (see the timeline)\n";
  if (own_workdir_ && passed) {
    std::error_code ec;
    fs::remove_all(workdir_, ec);
  } else {
    out_ << "node logs: " << workdir_ << "\n";
  }
  out_ << (passed ? "PASSED" : "FAILED") << "\n";
  out_.flush();
  if (opts_.json)
    std::cout << summary_json(f, results, events, passed).dump() << std::endl;
  return passed ? 0 : 1;
}

} // namespace dine::chaos
