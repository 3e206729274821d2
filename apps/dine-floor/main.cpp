// dine-floor: the single-threaded epoll reference server (see
// floor_server.hpp).

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "floor_server.hpp"

namespace {

constexpr const char* usage = R"(usage: dine-floor [options]

A single-threaded epoll server for the dine client protocol. It decodes
every request and echoes `inputs` as `outputs` (worker "floor", batch 1):
the best any front door can do on this machine.

options:
  --port=P           TCP port, 0 picks a free one (default 0)
  --host=ADDR        address to listen on (default 127.0.0.1)
  --ready-file=PATH  when listening, write {"client_port":P,"pid":PID} to
                     PATH (atomically: PATH.tmp, then rename)
  --codec=MODE       full (default): decode_request + append_reply per
                     frame, as the real server; none: reply with a
                     pre-encoded ok frame carrying the request's id (I/O
                     only; measures the load generator's capacity)
  --help             print this text
)";

struct options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string ready_file;
  bool codec = true;
};

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "dine-floor: " << msg << "\n(see dine-floor --help)\n";
  exit(2);
}

options parse(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      exit(0);
    }
    auto eq = arg.find('=');
    auto name = arg.substr(0, eq);
    if (eq == std::string::npos) {
      if (i + 1 >= argc)
        usage_error("flag `" + arg + "` needs a value");
      arg += '=';
      arg += argv[++i];
      eq = name.size();
    }
    auto value = arg.substr(eq + 1);
    if (name == "--port") {
      char* end = nullptr;
      errno = 0;
      auto p = strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno != 0 || p > 65535)
        usage_error("--port must be 0..65535, got `" + value + "`");
      opts.port = static_cast<uint16_t>(p);
    } else if (name == "--host") {
      if (value.empty())
        usage_error("--host must not be empty");
      opts.host = value;
    } else if (name == "--ready-file") {
      if (value.empty())
        usage_error("--ready-file must not be empty");
      opts.ready_file = value;
    } else if (name == "--codec") {
      if (value != "full" && value != "none")
        usage_error("--codec must be full or none, got `" + value + "`");
      opts.codec = value == "full";
    } else {
      usage_error("unknown flag `" + name + "`");
    }
  }
  return opts;
}

bool write_ready_file(const std::string& path, uint16_t port) {
  auto tmp = path + ".tmp";
  {
    std::ofstream out{tmp, std::ios::trunc};
    out << "{\"client_port\": " << port << ", \"pid\": " << getpid() << "}\n";
    out.flush();
    if (!out)
      return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse(argc, argv);
  // SIGTERM/SIGINT arrive through a signalfd in the epoll set.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) {
    std::cerr << "dine-floor: signalfd: " << strerror(errno) << '\n';
    return 1;
  }
  dine::floor_server srv{opts.codec};
  if (auto err = srv.listen(opts.host, opts.port); !err.empty()) {
    std::cerr << "dine-floor: " << err << '\n';
    return 1;
  }
  std::cout << "listening on " << opts.host << ":" << srv.port() << std::endl;
  if (!opts.ready_file.empty() &&
      !write_ready_file(opts.ready_file, srv.port())) {
    std::cerr << "dine-floor: cannot write " << opts.ready_file << ": "
              << strerror(errno) << '\n';
    return 1;
  }
  auto err = srv.run(sfd);
  close(sfd);
  auto& st = srv.stats();
  std::cerr << "dine-floor: stopped after " << st.requests << " requests ("
            << st.errors << " errors) on " << st.connections << " connections, "
            << st.reads << " reads\n";
  if (!err.empty()) {
    std::cerr << "dine-floor: " << err << '\n';
    return 1;
  }
  return 0;
}
