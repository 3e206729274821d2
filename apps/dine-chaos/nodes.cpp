#include "nodes.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "process.hpp"

namespace dine::chaos {

namespace {

/// Picks a TCP port that is free on every address right now.
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  socklen_t len = sizeof(sa);
  uint16_t port = 0;
  if (fd >= 0 &&
      ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0)
    port = ntohs(sa.sin_port);
  if (fd >= 0)
    ::close(fd);
  return port;
}

/// Returns the value of the last `--key=value` flag, or `fallback`.
std::string flag_value(const std::vector<std::string>& argv,
                       const std::string& key, std::string fallback) {
  auto prefix = "--" + key + "=";
  for (auto& a : argv)
    if (a.compare(0, prefix.size(), prefix) == 0)
      fallback = a.substr(prefix.size());
  return fallback;
}

std::string host_part(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  auto host =
      colon == std::string::npos ? host_port : host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host;
}

} // namespace

node_set::node_set(const scenario& sc, std::string node_bin, bool verbose,
                   event_fn on_event)
    : sc_(sc), node_bin_(std::move(node_bin)), verbose_(verbose),
      on_event_(std::move(on_event)) {
  for (auto& d : sc_.nodes) {
    node_state n;
    n.decl = &d;
    nodes_.push_back(n);
  }
}

node_set::~node_set() {
  teardown();
}

node_set::node_state& node_set::get(const std::string& name) {
  for (auto& n : nodes_)
    if (n.decl->name == name)
      return n;
  throw std::logic_error("unknown node " + name); // the parser checked
}

const node_set::node_state& node_set::get(const std::string& name) const {
  return const_cast<node_set*>(this)->get(name);
}

std::string node_set::setup(const std::string& workdir) {
  bool any_netns = false;
  for (auto& n : nodes_) {
    n.ready_path = workdir + "/" + n.decl->name + ".ready";
    n.log_path = workdir + "/" + n.decl->name + ".log";
    std::ofstream{n.log_path, std::ios::trunc};
    any_netns = any_netns || n.decl->netns;
  }
  any_netns = any_netns || !sc_.hosts.empty();
  if (any_netns)
    netns_set::remove_stale();
  for (auto& h : sc_.hosts) {
    if (auto err = netns_.add(h); !err.empty())
      return "host " + h + ": " + err;
    auto l = netns_.find(h);
    auto& f = hosts_[h];
    f.addr = l->addr;
    f.gw = l->gw;
    on_event_("host " + h + ": " + l->name + ", " + l->root_if + " " + l->gw +
              " <-> " + l->ns_if + " " + l->addr);
  }
  for (auto& n : nodes_) {
    if (!n.decl->host.empty()) {
      n.facts.addr = hosts_[n.decl->host].addr;
      n.facts.gw = hosts_[n.decl->host].gw;
      continue;
    }
    if (!n.decl->netns)
      continue;
    if (auto err = netns_.add(n.decl->name); !err.empty())
      return "netns " + n.decl->name + ": " + err;
    auto l = netns_.find(n.decl->name);
    n.facts.addr = l->addr;
    n.facts.gw = l->gw;
    on_event_("netns " + n.decl->name + ": " + l->name + ", " + l->root_if +
              " " + l->gw + " <-> " + l->ns_if + " " + l->addr);
  }
  return {};
}

const node_facts* node_set::find_facts(const std::string& name) const {
  for (auto& m : nodes_)
    if (m.decl->name == name)
      return &m.facts;
  auto h = hosts_.find(name);
  return h == hosts_.end() ? nullptr : &h->second;
}

std::string node_set::expand(const std::string& word, std::string& out) {
  std::string err;
  auto facts = [this](const std::string& x) { return find_facts(x); };
  auto ports = [this](const std::string& label) {
    auto& p = ports_[label];
    if (p == 0)
      p = free_port();
    return p;
  };
  if (!expand_placeholders(word, "", facts, ports, out, err))
    return err;
  return {};
}

std::string node_set::start(const std::string& name) {
  auto& n = get(name);
  auto facts = [this](const std::string& x) { return find_facts(x); };
  auto ports = [this](const std::string& label) {
    auto& p = ports_[label];
    if (p == 0)
      p = free_port();
    return p;
  };
  spawn_options so;
  so.argv.push_back(node_bin_);
  std::string err;
  for (auto& f : n.decl->flags) {
    std::string x;
    if (!expand_placeholders(f, n.decl->name, facts, ports, x, err))
      return err;
    so.argv.push_back(x);
  }
  so.argv.push_back("--ready-file=" + n.ready_path);
  so.log_path = n.log_path;
  if (auto l = netns_.find(n.decl->host.empty() ? n.decl->name : n.decl->host))
    so.netns_path = "/var/run/netns/" + l->name;
  std::string cmd;
  for (auto& a : so.argv)
    cmd += (cmd.empty() ? "" : " ") + a;
  std::ofstream{n.log_path, std::ios::app}
      << "=== dine-chaos: start #" << n.starts + 1 << ": " << cmd << std::endl;
  ::unlink(n.ready_path.c_str());
  auto pid = spawn_process(so, err);
  if (pid < 0)
    return err;
  ++n.starts;
  n.awaiting_ready = true;
  n.facts.running = true;
  n.facts.ready = false;
  n.facts.pid = pid;
  n.facts.client_host = flag_value(so.argv, "client-host", "127.0.0.1");
  n.facts.cluster_host =
      host_part(flag_value(so.argv, "listen", "127.0.0.1:7401"));
  on_event_("node " + name + " started (pid " + std::to_string(pid) + ")" +
            (verbose_ ? ": " + cmd : std::string{}));
  return {};
}

bool node_set::read_ready(node_state& n) {
  std::ifstream in{n.ready_path};
  if (!in)
    return false;
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return false; // not written completely yet
  n.facts.client_port = j.value("client_port", uint16_t{0});
  n.facts.cluster_port = j.value("cluster_port", uint16_t{0});
  n.facts.ready = true;
  n.awaiting_ready = false;
  std::string what;
  if (j.contains("worker"))
    what = "worker " + j.value("worker", std::string{}) + " registered";
  if (n.facts.client_port != 0)
    what += (what.empty() ? "" : ", ") + std::string{"client port "} +
            std::to_string(n.facts.client_port) + ", cluster port " +
            std::to_string(n.facts.cluster_port);
  on_event_("node " + n.decl->name + " ready (" + what + ")");
  return true;
}

void node_set::exited(node_state& n, int status) {
  n.facts.running = false;
  n.facts.ready = false;
  n.facts.pid = 0;
  n.awaiting_ready = false;
  n.last_exit = exit_code(status);
}

bool node_set::poll() {
  bool changed = false;
  for (auto& n : nodes_) {
    if (!n.facts.running)
      continue;
    int status = 0;
    auto pid = static_cast<pid_t>(n.facts.pid);
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited(n, status);
      on_event_("node " + n.decl->name + " exited: " + describe_status(status));
      changed = true;
    } else if (n.awaiting_ready && read_ready(n)) {
      changed = true;
    }
  }
  return changed;
}

std::string node_set::signal(const std::string& name, int sig) {
  auto& n = get(name);
  if (!n.facts.running)
    return "node " + name + " is not running";
  if (::kill(static_cast<pid_t>(n.facts.pid), sig) != 0)
    return std::string{"kill: "} + strerror(errno);
  return {};
}

void node_set::kill(const std::string& name, const char* why) {
  auto& n = get(name);
  if (!n.facts.running)
    return;
  auto pid = static_cast<pid_t>(n.facts.pid);
  ::kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    // retry
  }
  exited(n, status);
  if (why != nullptr)
    on_event_("node " + name + " killed (" + why + ")");
}

std::string node_set::set_link(const std::string& name, bool up) {
  return netns_.set_link(name, up);
}

void node_set::teardown() {
  for (auto i = nodes_.rbegin(); i != nodes_.rend(); ++i)
    kill(i->decl->name, nullptr);
  netns_.teardown();
}

const node_facts& node_set::facts(const std::string& name) const {
  return get(name).facts;
}

std::string node_set::client_addr(const std::string& name) const {
  auto& n = get(name);
  std::string addr;
  std::string why;
  if (n.facts.ready)
    expand_placeholders(
        "{" + name + ".client}", name,
        [&](const std::string&) { return &n.facts; },
        [](const std::string&) -> uint16_t { return 0; }, addr, why);
  return addr;
}

int node_set::last_exit(const std::string& name) const {
  auto& n = get(name);
  return n.facts.running ? -1 : n.last_exit;
}

std::string node_set::log_path(const std::string& name) const {
  return get(name).log_path;
}

std::map<std::string, int> node_set::exits() const {
  std::map<std::string, int> out;
  for (auto& n : nodes_)
    out[n.decl->name] = last_exit(n.decl->name);
  return out;
}

} // namespace dine::chaos
