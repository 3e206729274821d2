#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace dine {

/// Error codes of dine, registered with CAF under the category `dine`. The
/// client protocol sends them as their `to_string` names.
enum class errc : uint8_t {
  none = 0,
  /// The frame is not a msgpack map or a field has the wrong type.
  invalid_request,
  /// The frame's length prefix exceeds the configured maximum.
  frame_too_large,
  /// The `op` field names no known operation.
  unknown_op,
  /// No registered worker serves the requested model.
  unknown_model,
  /// The model rejected the inputs.
  invalid_input,
  /// A queue or in-flight limit was reached; retry later.
  overloaded,
  /// The model exists but no healthy worker can serve it now.
  unavailable,
  /// The request's deadline passed before a result arrived.
  deadline_exceeded,
  /// The worker failed while running the request and no retry was left.
  worker_failed,
  /// The node is shutting down.
  shutting_down,
  /// An unexpected internal condition.
  internal,
  /// A configuration key or value is invalid.
  invalid_config,
  /// The persistent store failed: it cannot be opened or created, its file
  /// is corrupt, it is full, or an LMDB call failed.
  storage_error,
  /// A value exceeds the configured maximum size of a store or cache.
  value_too_large,
  /// A supervisor exceeded its restart intensity and gave up (it stopped
  /// all its children); the message names the supervisor and the child.
  supervisor_gave_up,
  /// A supervisor could not start one of its children initially.
  child_start_failed,
  /// The worker running a streamed generation died after some of its
  /// tokens were sent: the stream ends with this error, never resent.
  worker_lost,
  /// The operation is not allowed on this node: the `fault` op on a node
  /// started without `--enable-fault-injection` (docs/security.md).
  forbidden,
  /// The client port has API keys and the connection presented a wrong
  /// key or none (docs/protocol.md, "API keys"); nothing is served.
  unauthorized,
  /// The node's budget for buffered client bytes (`memory-budget-bytes`)
  /// is spent: this connection held the most and is closed.
  memory_budget_exceeded,
  /// `max-connections` or `max-connections-per-address` was reached: the
  /// new connection is closed.
  too_many_connections,
  /// This coordinator does not lead its etcd cluster (a standby, or a
  /// leader that lost its lease): send the request to the leader, named in
  /// the message when known (docs/protocol.md, "Several coordinators").
  not_leader,
};

/// The CAF error category of `errc`.
constexpr caf::atom_value errc_category = caf::atom("dine");

/// Returns the stable wire name of `x`, e.g. `"unknown_model"`.
const char* to_string(errc x);

/// Parses a wire name back into an `errc`; returns `errc::internal` for
/// unknown names.
errc errc_from_string(const std::string& name);

/// Makes a CAF error of category `dine`.
caf::error make_error(errc x);

/// Makes a CAF error of category `dine` with a human-readable message.
caf::error make_error(errc x, std::string msg);

/// Extracts the `errc` and message of any CAF error: `dine` errors map to
/// themselves, framework errors (`caf::sec`, exit reasons) to `internal`
/// or `worker_failed` with their rendered text.
std::pair<errc, std::string> classify(const caf::error& err);

} // namespace dine
