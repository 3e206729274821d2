#pragma once

// The typed interface of dine's generic supervisor (actors/supervisor.hpp).
// To be merged into messages/interfaces.hpp.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include "messages/interfaces.hpp"
#include "messages/supervision.hpp"

namespace dine {

using children_atom = caf::atom_constant<caf::atom("children")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using restarted_atom = caf::atom_constant<caf::atom("restarted")>;

/// A supervisor:
/// - `(children)` returns every child with its current handle (OTP's
///   `which_children`), in start order;
/// - `(stop)` stops the children in reverse start order, each within its
///   shutdown timeout, then replies and terminates normally;
/// - `(subscribe, a)` makes the supervisor send `(restarted, id, handle)`
///   to `a` after each restart of a child;
/// - `(tick, n)` is its own shutdown timer.
using supervisor_actor = caf::typed_actor<
    caf::replies_to<children_atom>::with<std::vector<child_info>>,
    caf::reacts_to<stop_atom>, caf::reacts_to<caf::subscribe_atom, caf::actor>,
    caf::reacts_to<tick_atom, uint64_t>>;

} // namespace dine
