#include "process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>

#include "lex.hpp"

namespace dine::chaos {

namespace {

/// Writes a constant message and exits: safe between fork and exec.
[[noreturn]] void child_fail(const char* msg) {
  auto ignored = ::write(2, msg, strlen(msg));
  (void)ignored;
  _exit(127);
}

/// Prepares a forked child: only async-signal-safe calls.
void child_setup(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr); // exec resets the handlers
}

std::vector<char*> c_argv(std::vector<std::string>& args) {
  std::vector<char*> out;
  for (auto& a : args)
    out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

} // namespace

pid_t spawn_process(const spawn_options& opts, std::string& err) {
  auto args = opts.argv;
  auto argv = c_argv(args);
  auto parent = getpid();
  int log = ::open(opts.log_path.c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    err = "cannot open " + opts.log_path + ": " + strerror(errno);
    return -1;
  }
  int ns = -1;
  if (!opts.netns_path.empty()) {
    ns = ::open(opts.netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) {
      err = "cannot open " + opts.netns_path + ": " + strerror(errno);
      ::close(log);
      return -1;
    }
  }
  auto pid = fork();
  if (pid == 0) {
    child_setup(parent);
    setpgid(0, 0);
    dup2(log, 1);
    dup2(log, 2);
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0)
      dup2(null, 0);
    if (ns >= 0 && setns(ns, CLONE_NEWNET) != 0)
      child_fail("dine-chaos: setns failed\n");
    execvp(argv[0], argv.data()); // a `run` step may name a command on PATH
    child_fail("dine-chaos: exec failed\n");
  }
  auto fork_errno = errno;
  ::close(log);
  if (ns >= 0)
    ::close(ns);
  if (pid < 0) {
    err = std::string{"fork: "} + strerror(fork_errno);
    return -1;
  }
  return pid;
}

int run_command(const std::vector<std::string>& argv_in, std::string& output) {
  output.clear();
  auto args = argv_in;
  auto argv = c_argv(args);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return -1;
  auto parent = getpid();
  auto pid = fork();
  if (pid == 0) {
    child_setup(parent);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    execvp(argv[0], argv.data());
    child_fail("exec failed\n");
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return -1;
  }
  char buf[4096];
  for (;;) {
    auto n = ::read(fds[0], buf, sizeof(buf));
    if (n > 0)
      output.append(buf, static_cast<size_t>(n));
    else if (n == 0 || errno != EINTR)
      break;
  }
  ::close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return exit_code(status);
}

int exit_code(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

std::string describe_status(int status) {
  if (WIFEXITED(status))
    return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "killed by " + signal_name(WTERMSIG(status));
  return "status " + std::to_string(status);
}

std::string tail_file(const std::string& path, size_t max_lines) {
  std::ifstream in{path};
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > max_lines)
      lines.pop_front();
  }
  std::string out;
  for (auto& l : lines)
    out += "    | " + l + "\n";
  return out;
}

} // namespace dine::chaos
