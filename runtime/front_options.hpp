#pragma once

// The [node] keys of the front doors (docs/operations.md, "Node keys"): the
// HTTP port's and the client port's limits, keys and timeouts. Rows of the
// node table (node_config.cpp), kept apart from the process and cluster
// keys.

#include "runtime/config_option.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// The `http-*` rows.
config_table<node_config> http_options();

/// The client port's rows: frame and connection limits, memory budget,
/// slow-client timeouts, API keys.
config_table<node_config> client_port_options();

} // namespace dine
