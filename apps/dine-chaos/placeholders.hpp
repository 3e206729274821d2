#pragma once

// Placeholders in node flags: `{NAME.FIELD}` expands to a fact about a node
// when the flags are expanded (at every start), `{port.LABEL}` to a free
// TCP port chosen once per run. See docs/chaos.md for the fields.

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "scenario.hpp"

namespace dine::chaos {

/// What placeholders can say about a node.
struct node_facts {
  bool running = false;
  bool ready = false; ///< Its ready file of the current start was read.
  long pid = 0;
  uint16_t client_port = 0;
  uint16_t cluster_port = 0;
  std::string client_host = "127.0.0.1";  ///< From --client-host.
  std::string cluster_host = "127.0.0.1"; ///< Host part of --listen.
  std::string addr; ///< Address inside its netns (empty without one).
  std::string gw;   ///< Root-side address of its veth (empty without one).
};

/// Looks up the facts of a node by name (null if unknown).
using facts_fn = std::function<const node_facts*(const std::string&)>;

/// Returns a free port for a `{port.LABEL}` (the same for every use).
using port_fn = std::function<uint16_t(const std::string&)>;

/// Checks the placeholders of one flag of node `self` at parse time: the
/// syntax, that referenced nodes are declared before `self`, and that
/// `addr` / `gw` name a node with a `netns` line, a host, or a node on a
/// host (any node, `self` too: namespaces exist before the first node
/// starts); `{self.name}` is the node's own name.
bool check_placeholders(const std::string& flag, const node_decl& self,
                        const scenario& sc, const std::set<std::string>& netns,
                        std::string& why);

/// Expands every placeholder of `flag` for node `self` (empty: for a `run`
/// step; `{self.name}` is then empty). Returns false and
/// sets `why` when a fact is not known yet (e.g. the node is not ready).
bool expand_placeholders(const std::string& flag, const std::string& self,
                         const facts_fn& facts, const port_fn& ports,
                         std::string& out, std::string& why);

} // namespace dine::chaos
