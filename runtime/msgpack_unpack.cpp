#include "runtime/msgpack_unpack.hpp"

#include "messages/errc.hpp"
#include "runtime/msgpack_reader.hpp"

namespace dine {

caf::expected<msgpack::object> safe_unpack(msgpack::zone& zone,
                                           const uint8_t* data, size_t size,
                                           size_t max_depth) {
  msgpack_reader check{data, size, max_depth};
  if (size == 0 || !check.skip() || !check.at_end())
    return make_error(errc::invalid_request,
                      check.too_deep() ? "msgpack value nested too deep"
                                       : "malformed msgpack value");
  // Every element takes at least one byte (a map entry two): no count may
  // exceed the input size.
  msgpack::unpack_limit limit{size, size / 2, size, size, size, max_depth + 1};
  try {
    size_t off = 0;
    auto obj = msgpack::unpack(zone, reinterpret_cast<const char*>(data), size,
                               off, nullptr, nullptr, limit);
    return obj;
  } catch (const std::exception& e) {
    return make_error(errc::invalid_request,
                      std::string{"msgpack unpack failed: "} + e.what());
  }
}

} // namespace dine
