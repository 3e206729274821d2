// dine-chaos: runs a fault-injection scenario against real dine-node
// processes (docs/chaos.md).
//
// Exit status: 0 every expectation held, 1 one failed (or a step or node
// start failed), 2 a syntax error in the scenario or on the command line,
// 77 skipped (network namespaces need root), 128 + N interrupted by
// signal N.

#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "runner.hpp"
#include "scenario.hpp"

using namespace dine::chaos;

namespace {

constexpr const char* usage =
    "usage: dine-chaos SCENARIO_FILE [--node-bin=PATH] [--workdir=DIR]\n"
    "                  [--json] [--verbose] [--parse-only]\n"
    "Runs a fault-injection scenario against real dine-node processes and\n"
    "checks its expectations (the language: docs/chaos.md).\n"
    "  --node-bin=PATH  dine-node to run (default: next to dine-chaos)\n"
    "  --workdir=DIR    keep ready files and node logs here (default: a\n"
    "                   temporary directory, removed when the run passes)\n"
    "  --json           print the summary as one JSON object on stdout\n"
    "                   (the human-readable report goes to stderr)\n"
    "  --verbose        print events and node commands as they happen\n"
    "  --parse-only     check the scenario's syntax and exit\n"
    "Exit status: 0 passed, 1 an expectation or step failed, 2 syntax\n"
    "error, 77 skipped (netns needs root), 128+N interrupted by signal N.\n";

void on_stop(int sig) {
  stop_signal = sig;
}

std::string default_node_bin() {
  char buf[4096];
  auto n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0)
    return "dine-node";
  std::string self{buf, static_cast<size_t>(n)};
  return self.substr(0, self.rfind('/') + 1) + "dine-node";
}

bool take(const std::string& arg, const char* key, std::string& value) {
  auto n = strlen(key);
  if (arg.compare(0, n, key) != 0)
    return false;
  value = arg.substr(n);
  return true;
}

} // namespace

int main(int argc, char** argv) {
  std::string file;
  run_options opts;
  bool parse_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      return 0;
    }
    if (a == "--json")
      opts.json = true;
    else if (a == "--verbose")
      opts.verbose = true;
    else if (a == "--parse-only")
      parse_only = true;
    else if (take(a, "--node-bin=", opts.node_bin) ||
             take(a, "--workdir=", opts.workdir))
      continue;
    else if (a.compare(0, 2, "--") != 0 && file.empty())
      file = a;
    else {
      std::cerr << "dine-chaos: unexpected argument `" << a << "`\n" << usage;
      return 2;
    }
  }
  if (file.empty()) {
    std::cerr << usage;
    return 2;
  }
  std::ifstream in{file};
  if (!in) {
    std::cerr << "dine-chaos: cannot read " << file << "\n";
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  scenario sc;
  if (auto err = parse_scenario(text.str(), sc)) {
    std::cerr << file << ":" << err->line << ": " << err->message << "\n";
    return 2;
  }
  if (parse_only) {
    std::cout << file << ": ok (" << sc.nodes.size() << " nodes, "
              << sc.steps.size() << " steps, " << sc.expects.size()
              << " expectations)\n";
    return 0;
  }
  if (opts.node_bin.empty())
    opts.node_bin = default_node_bin();
  if (access(opts.node_bin.c_str(), X_OK) != 0) {
    std::cerr << "dine-chaos: cannot execute " << opts.node_bin
              << " (use --node-bin=PATH)\n";
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  runner r{sc, opts};
  return r.run();
}
