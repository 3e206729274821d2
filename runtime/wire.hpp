#pragma once

// The client wire format (docs/protocol.md): decoding requests and encoding
// replies on the server, the reverse on clients.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "messages/client.hpp"

namespace dine {

/// Limits applied while decoding a request body.
struct decode_limits {
  size_t max_depth = 32;      ///< Nesting of `inputs` and the whole body.
  size_t max_model_len = 256; ///< Bytes of `model`.
  size_t max_key_len = 4096;  ///< Bytes of `key`.
};

/// Decodes one request body into `out`. Never throws. On bad input,
/// `out.error` holds an `errc` and `out.error_message` says what is wrong;
/// `out.id` is set whenever the body is well-formed msgpack with an `id`.
void decode_request(const char* body, size_t size, client_request& out,
                    const decode_limits& limits = {});

/// `decode_request` into an `out` that is default-constructed: skips the
/// reset, a second pass over a large struct (the client listener decodes
/// into fresh batch slots, docs/benchmarks.md "Front door").
void decode_new_request(const char* body, size_t size, client_request& out,
                        const decode_limits& limits = {});

/// Appends one framed reply to `buf`.
void append_reply(std::vector<char>& buf, const client_reply& x);

/// Appends one framed request to `buf` (client side). `inputs` must hold
/// one valid msgpack value or be empty (then no `inputs` key is written).
void append_request(std::vector<char>& buf, const client_request& x);

/// Decodes one reply body (client side). Returns false if the body is not
/// a well-formed reply.
bool decode_reply(const char* body, size_t size, client_reply& out);

} // namespace dine
