#pragma once

// Child processes of dine-chaos: dine-node instances (fork/exec, optionally
// inside a network namespace, dying with dine-chaos via PR_SET_PDEATHSIG)
// and short helper commands such as `ip`.

#include <sys/types.h>

#include <string>
#include <vector>

namespace dine::chaos {

/// How to start one long-running child.
struct spawn_options {
  std::vector<std::string> argv; ///< argv[0] is the executable's path.
  std::string log_path;          ///< stdout and stderr are appended here.
  std::string netns_path;        ///< /var/run/netns/NAME, or empty.
};

/// Starts a child in its own process group. The child gets SIGKILL when
/// the calling thread exits, so call this from the main thread only.
/// Returns its pid, or -1 and sets `err`.
pid_t spawn_process(const spawn_options& opts, std::string& err);

/// Runs `argv` to completion (searching PATH for argv[0]) and returns its
/// exit status as from `exit_code`, or -1 if it could not run. Its stdout
/// and stderr are returned in `output`.
int run_command(const std::vector<std::string>& argv, std::string& output);

/// Turns a waitpid status into one number: the exit code, or 128 + the
/// signal that killed the process.
int exit_code(int status);

/// Describes a waitpid status, e.g. "exit 0" or "killed by KILL".
std::string describe_status(int status);

/// Returns the last `max_lines` lines of the file at `path`.
std::string tail_file(const std::string& path, size_t max_lines);

} // namespace dine::chaos
