#pragma once

// What the HTTP routes need from the node: a way to send a `client_request`
// to the coordinator and get its replies back, exactly as a wire
// connection does (actors/front/http_relay.hpp implements it).

#include <functional>

#include "messages/client.hpp"

namespace dine::http {

/// Receives every reply to one request: a stream's chunks, then its final
/// reply (the last call). Runs on an actor thread, never concurrently for
/// one request.
using reply_fn = std::function<void(client_reply&&)>;

/// The coordinator, as the HTTP routes see it.
class backend {
public:
  virtual ~backend() = default;

  /// Sends `req` (its `id` unique among the requests in flight here).
  virtual void submit(client_request req, reply_fn on_reply) = 0;
};

} // namespace dine::http
