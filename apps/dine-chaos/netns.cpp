#include "netns.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <sstream>

#include "process.hpp"

namespace dine::chaos {

namespace {

/// Returns the third octets K of every 10.200.K.x address in the root
/// namespace, so a new /30 does not collide with another run's.
std::set<int> used_subnets() {
  std::set<int> used;
  std::string out;
  if (run_command({"ip", "-o", "-4", "addr", "show"}, out) != 0)
    return used;
  size_t pos = 0;
  while ((pos = out.find("10.200.", pos)) != std::string::npos) {
    pos += 7;
    used.insert(atoi(out.c_str() + pos));
  }
  return used;
}

} // namespace

netns_set::~netns_set() {
  teardown();
}

std::string netns_set::ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  auto rc = run_command(argv, out);
  if (rc == 0)
    return {};
  std::string cmd;
  for (auto& a : argv)
    cmd += (cmd.empty() ? "" : " ") + a;
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  return "`" + cmd + "` failed" +
         (rc < 0 ? std::string{" (cannot run ip)"}
                 : " (exit " + std::to_string(rc) + "): " + out);
}

std::string netns_set::add(const std::string& node) {
  auto used = used_subnets();
  int k = 1;
  while (k < 255 && used.count(k) > 0)
    ++k;
  if (k == 255)
    return "no free 10.200.K.0/30 subnet left";
  auto pid = std::to_string(getpid() % 10000000);
  auto idx = std::to_string(links_.size());
  netns_link l;
  l.node = node;
  l.name = "dchaos-" + pid + "-" + node;
  l.root_if = "dc" + pid + "r" + idx;
  l.ns_if = "dc" + pid + "n" + idx;
  auto net = "10.200." + std::to_string(k) + ".";
  l.gw = net + "1";
  l.addr = net + "2";
  if (auto err = ip({"netns", "add", l.name}); !err.empty())
    return err;
  links_.push_back(l);
  std::vector<std::vector<std::string>> cmds = {
      {"link", "add", l.root_if, "type", "veth", "peer", "name", l.ns_if},
      {"link", "set", l.ns_if, "netns", l.name},
      {"addr", "add", l.gw + "/30", "dev", l.root_if},
      {"link", "set", l.root_if, "up"},
      {"-n", l.name, "link", "set", "lo", "up"},
      {"-n", l.name, "addr", "add", l.addr + "/30", "dev", l.ns_if},
      {"-n", l.name, "link", "set", l.ns_if, "up"},
      {"-n", l.name, "route", "add", "default", "via", l.gw},
  };
  for (auto& c : cmds)
    if (auto err = ip(c); !err.empty())
      return err;
  return {};
}

std::string netns_set::set_link(const std::string& node, bool up) {
  auto l = find(node);
  if (l == nullptr)
    return "node " + node + " has no network namespace";
  if (auto err = ip({"link", "set", l->root_if, up ? "up" : "down"});
      !err.empty())
    return err;
  if (up) // a route over a link that went down may be gone
    return ip({"-n", l->name, "route", "replace", "default", "via", l->gw});
  return {};
}

const netns_link* netns_set::find(const std::string& node) const {
  for (auto& l : links_)
    if (l.node == node)
      return &l;
  return nullptr;
}

void netns_set::teardown() {
  for (auto i = links_.rbegin(); i != links_.rend(); ++i) {
    std::string out;
    // Deleting one end of a veth pair deletes both; the namespace goes
    // once no process is left in it.
    run_command({"ip", "link", "del", i->root_if}, out);
    run_command({"ip", "netns", "del", i->name}, out);
  }
  links_.clear();
}

void netns_set::remove_stale() {
  std::string out;
  if (run_command({"ip", "netns", "list"}, out) != 0)
    return;
  std::istringstream in{out};
  std::string line;
  while (std::getline(in, line)) {
    auto name = line.substr(0, line.find(' '));
    if (name.compare(0, 7, "dchaos-") != 0)
      continue;
    auto pid = atol(name.c_str() + 7);
    if (pid <= 0 ||
        (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) {
      std::string ignored;
      run_command({"ip", "netns", "del", name}, ignored);
    }
  }
}

} // namespace dine::chaos
