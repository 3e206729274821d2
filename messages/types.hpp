#pragma once

#include <caf/actor_system_config.hpp>

namespace dine {

/// Registers every message type and the `dine` error category with `cfg`.
/// Every node calls this, so the same names exist on every host.
void register_types(caf::actor_system_config& cfg);

} // namespace dine
