#pragma once

// JSON <-> wire conversions of dine-client (nlohmann::json on the command
// line and in --file lines, msgpack on the wire).

#include <string>

#include <nlohmann/json.hpp>

#include "messages/client.hpp"
#include "options.hpp"

namespace dine::client {

/// Builds the request with id `id` from a JSON object whose fields override
/// the defaults in `opts`. Returns an empty string on success, else a
/// message naming the bad field.
std::string make_request(const nlohmann::json& fields, const options& opts,
                         uint64_t id, client_request& out);

/// Converts a reply to JSON: id, ok, outputs or error {code, message},
/// cached, worker, batch and timings (read ... write, total).
nlohmann::ordered_json reply_to_json(const client_reply& x);

/// Renders `x` as one line, replacing invalid UTF-8.
std::string to_line(const nlohmann::ordered_json& x);

} // namespace dine::client
