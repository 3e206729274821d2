#pragma once

// Network namespaces for `netns NODE`: each such node runs in its own
// namespace, joined to the root namespace by a veth pair with a /30 of
// 10.200.K.0 (root side .1 = the node's gateway, namespace side .2 = its
// address). `link down` / `link up` switch the root side of the pair.
// Everything is created with `ip` (iproute2) and removed again by
// `teardown` (also run by the destructor).

#include <string>
#include <vector>

namespace dine::chaos {

/// One namespace and its veth pair.
struct netns_link {
  std::string node;
  std::string name;    ///< Namespace name: dchaos-PID-NODE.
  std::string root_if; ///< Veth end in the root namespace.
  std::string ns_if;   ///< Veth end inside the namespace.
  std::string gw;      ///< Address of `root_if`.
  std::string addr;    ///< Address of `ns_if`.
};

/// The namespaces of one run.
class netns_set {
public:
  netns_set() = default;

  ~netns_set();

  netns_set(const netns_set&) = delete;
  netns_set& operator=(const netns_set&) = delete;

  /// Creates the namespace of `node`. Returns "" or what failed.
  std::string add(const std::string& node);

  /// Sets the link of `node` down or up. Returns "" or what failed.
  std::string set_link(const std::string& node, bool up);

  /// Returns the namespace of `node`, or null.
  const netns_link* find(const std::string& node) const;

  /// Removes every namespace and veth pair created by `add`.
  void teardown();

  /// Removes namespaces left behind by dine-chaos runs whose process is
  /// gone (a crash or SIGKILL skips `teardown`).
  static void remove_stale();

private:
  std::string ip(const std::vector<std::string>& args);

  std::vector<netns_link> links_;
};

} // namespace dine::chaos
