#pragma once

// The one constructor of an error reply to a client request: every actor
// that answers a request with an error (connection, coordinator, router,
// batcher) builds it here, so that an error reply always carries the
// request id, an `errc` code and a message (docs/protocol.md, "Errors").

#include <cstdint>
#include <string>

#include "messages/client.hpp"
#include "messages/errc.hpp"

namespace dine {

/// Returns the reply to request `id` that fails it with `code` and `msg`.
client_reply error_reply(uint64_t id, errc code, std::string msg);

} // namespace dine
