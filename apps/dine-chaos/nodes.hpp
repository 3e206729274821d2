#pragma once

// The dine-node processes of a run: starting them (placeholders expanded,
// --ready-file appended, inside their network namespace if they have one),
// noticing when they are ready or exit, signalling and killing them. Every
// process is killed and reaped, and every namespace removed, by
// `teardown` (also run by the destructor).

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "netns.hpp"
#include "placeholders.hpp"
#include "scenario.hpp"

namespace dine::chaos {

/// Receives the text of a timeline event; the receiver stamps the time.
using event_fn = std::function<void(std::string)>;

/// All nodes of a scenario.
class node_set {
public:
  node_set(const scenario& sc, std::string node_bin, bool verbose,
           event_fn on_event);

  ~node_set();

  node_set(const node_set&) = delete;
  node_set& operator=(const node_set&) = delete;

  /// Prepares the log files in `workdir` and creates the namespaces.
  /// Returns "" or what failed.
  std::string setup(const std::string& workdir);

  /// Starts node `name`. Returns "" or what failed.
  std::string start(const std::string& name);

  /// Reaps exited nodes and reads new ready files. Returns whether a node
  /// became ready or exited.
  bool poll();

  /// Sends `sig` to node `name`. Returns "" or what failed.
  std::string signal(const std::string& name, int sig);

  /// SIGKILLs and reaps node `name` if it runs; `why` (if not null) goes
  /// into the timeline.
  void kill(const std::string& name, const char* why);

  /// Sets the link of node `name` down or up. Returns "" or what failed.
  std::string set_link(const std::string& name, bool up);

  /// Expands the placeholders of a `run` step's word. Returns "" or what
  /// failed.
  std::string expand(const std::string& word, std::string& out);

  /// Kills every node and removes the namespaces.
  void teardown();

  /// Returns what is known about node `name`.
  const node_facts& facts(const std::string& name) const;

  /// Returns `HOST:PORT` of the node's client port, or "" unless ready.
  std::string client_addr(const std::string& name) const;

  /// Returns the node's last exit status (`exit_code`), -1 if running or
  /// never exited.
  int last_exit(const std::string& name) const;

  /// Returns the path of the node's log file.
  std::string log_path(const std::string& name) const;

  /// Returns node -> exit status (-1 = running), for `exit.NODE`.
  std::map<std::string, int> exits() const;

private:
  struct node_state {
    const node_decl* decl = nullptr;
    node_facts facts;
    bool awaiting_ready = false;
    int last_exit = -1;
    int starts = 0;
    std::string ready_path;
    std::string log_path;
  };

  node_state& get(const std::string& name);
  const node_facts* find_facts(const std::string& name) const;
  const node_state& get(const std::string& name) const;
  bool read_ready(node_state& n);
  void exited(node_state& n, int status);

  const scenario& sc_;
  std::string node_bin_;
  bool verbose_;
  event_fn on_event_;
  std::vector<node_state> nodes_;
  netns_set netns_;
  std::map<std::string, node_facts> hosts_; ///< addr and gw of each host.
  std::map<std::string, uint16_t> ports_;   ///< {port.LABEL} -> port.
};

} // namespace dine::chaos
