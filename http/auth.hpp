#pragma once

// API keys on the HTTP front door (docs/security.md, "HTTP front door"):
// which client-port op each route stands for, so that the routes are
// allowed exactly what the same key may do on the client port
// (runtime/api_keys.hpp, `api_keys::allows`), and the key of an
// `Authorization: Bearer KEY` header (what OpenAI clients send).

#include <optional>
#include <string_view>

#include "messages/client.hpp"

namespace dine::http {

/// The key of an `Authorization` header value `Bearer KEY` (the scheme in
/// any case, spaces around the key ignored); empty for any other value.
std::string_view bearer_key(std::string_view authorization);

/// The client-port op a route needs a key for: `infer` for inference,
/// completions and async job results, `cancel` for `DELETE
/// /v1/requests/ID`, `models`, `health` for `/health/ready`, `stats` for
/// `/api/stats` and `/metrics`. None (open to all) for `/health/live` and
/// the dashboard's static files, which hold no data. An unknown path also
/// needs `infer`: its 404 is for key holders only.
std::optional<op_code> route_op(std::string_view path, bool is_delete);

} // namespace dine::http
