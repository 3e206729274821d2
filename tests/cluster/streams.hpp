#pragma once

// Reading streamed replies in the cluster tests: the frames of many
// requests on one connection, gathered by request id.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "messages/client.hpp"
#include "runtime/client_conn.hpp"

namespace dine::test {

/// What one connection received for one request id.
struct received {
  std::vector<std::string> texts; ///< Of the chunks, in order.
  std::vector<int64_t> tokens;    ///< Of the chunks, in order.
  std::vector<client_reply> finals;
};

/// Reads frames from `conn` until `ids` requests each got a final frame
/// (or `bound` passes); returns what arrived by id.
std::map<uint64_t, received> read_until_done(client_conn& conn, size_t ids,
                                             std::chrono::seconds bound);

/// Reads the next frame on `conn` (within 5 s).
client_reply next_frame(client_conn& conn);

/// Sends one request frame on `conn`.
void send(client_conn& conn, const client_request& r);

} // namespace dine::test
