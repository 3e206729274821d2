#pragma once

#include <cstddef>
#include <cstdint>

#include <caf/expected.hpp>
#include <msgpack.hpp>

namespace dine {

/// Unpacks one msgpack value with msgpack-c into `zone`, safely: the bytes
/// are first validated by `msgpack_reader` (which rejects any count the
/// remaining bytes cannot hold, and nesting deeper than `max_depth`), and
/// msgpack-c then runs with `unpack_limit`s derived from `size`, so no
/// array, map, string or binary larger than the input is ever allocated.
/// msgpack-c's own defaults are unlimited: an array header claiming 2^32-1
/// elements makes it allocate 96 GiB before it reads one element. Never
/// throws; errors are `errc::invalid_request`.
caf::expected<msgpack::object> safe_unpack(msgpack::zone& zone,
                                           const uint8_t* data, size_t size,
                                           size_t max_depth = 32);

} // namespace dine
