#pragma once

// Messages of supervision: what a supervisor reports about its children.

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>

namespace dine {

/// One child of a supervisor, as `which_children` reports it.
struct child_info {
  /// The child's id from its spec.
  std::string id;
  /// The current incarnation; invalid while the child is not running (a
  /// transient child that exited normally, or during a restart).
  caf::actor handle;
  /// How often the child was restarted (0 for the first incarnation).
  uint32_t restarts = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_info& x) {
  return f(caf::meta::type_name("child_info"), x.id, x.handle, x.restarts);
}

} // namespace dine
