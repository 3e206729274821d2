#pragma once

// Runs a parsed scenario: starts the nodes in order (waiting for each ready
// file), drives the load, executes the timed steps, and finally kills and
// reaps every node and removes every namespace, whatever happened (also
// on SIGINT/SIGTERM), before it reports.

#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "load_client.hpp"
#include "nodes.hpp"
#include "report.hpp"
#include "scenario.hpp"

namespace dine::chaos {

/// Set to the signal number by the SIGINT/SIGTERM handler of main().
extern volatile std::sig_atomic_t stop_signal;

/// Exit status of a run that cannot work here (netns without root); ctest
/// reports it as skipped (SKIP_RETURN_CODE).
constexpr int skipped_status = 77;

/// Command-line options of a run.
struct run_options {
  std::string node_bin; ///< Path of dine-node.
  std::string workdir;  ///< Empty = a fresh temporary directory.
  bool json = false;    ///< Summary as JSON on stdout, the rest on stderr.
  bool verbose = false; ///< Events and node commands live on stderr.
};

/// Runs one scenario.
class runner {
public:
  runner(const scenario& sc, run_options opts);

  ~runner();

  runner(const runner&) = delete;
  runner& operator=(const runner&) = delete;

  /// Runs the scenario; returns the exit status of dine-chaos: 0 when
  /// every expectation held, 1 otherwise, `skipped_status` when it needs
  /// root, 128 + N after signal N.
  int run();

private:
  bool make_workdir();
  bool start_nodes();
  bool start_load();
  bool idle_until(int64_t deadline_ns, const std::function<bool()>& done);
  bool exec_step(const step& s, std::string& detail);
  bool admin_step(const step& s, std::string& detail);
  bool wait_workers_step(const step& s, std::string& detail);
  bool run_step(const step& s, std::string& detail);
  /// Adds a timeline event at `at_ns` (steady clock; -1 = now).
  void event(std::string text, int64_t at_ns = -1);
  void update_target();
  void cleanup();
  int finish(const load_result& load, int64_t fault_ns, int steps_failed);

  const scenario& sc_;
  run_options opts_;
  std::ostream& out_; ///< Human-readable report.
  node_set nodes_;
  std::string workdir_;
  bool own_workdir_ = false;
  int64_t t0_ns_ = 0;
  std::vector<timeline_event> events_; ///< Absolute steady-clock times.
  std::mutex target_mtx_;
  std::string target_addr_; ///< Client address of the load target.
  std::unique_ptr<load_client> load_;
  std::map<std::string, double> settle_ms_; ///< wait-workers as=LABEL.
};

/// Returns the steady clock in nanoseconds.
int64_t steady_now_ns();

} // namespace dine::chaos
