#include "runtime/msgpack_edit.hpp"

#include "messages/errc.hpp"
#include "runtime/msgpack_unpack.hpp"

namespace dine {

caf::expected<msgpack::object> unpack_value(msgpack::zone& zone,
                                            const std::vector<uint8_t>& bytes,
                                            const char* what) {
  auto obj = safe_unpack(zone, bytes.data(), bytes.size());
  if (!obj)
    return make_error(errc::invalid_input,
                      std::string{what} + ": " + classify(obj.error()).second);
  return obj;
}

const msgpack::object* map_find(const msgpack::object& m,
                                std::string_view key) {
  if (m.type != msgpack::type::MAP)
    return nullptr;
  for (uint32_t i = 0; i < m.via.map.size; ++i) {
    auto& k = m.via.map.ptr[i].key;
    if (k.type == msgpack::type::STR &&
        std::string_view{k.via.str.ptr, k.via.str.size} == key)
      return &m.via.map.ptr[i].val;
  }
  return nullptr;
}

bool as_number(const msgpack::object& o, double& x) {
  switch (o.type) {
  case msgpack::type::POSITIVE_INTEGER:
    x = static_cast<double>(o.via.u64);
    return true;
  case msgpack::type::NEGATIVE_INTEGER:
    x = static_cast<double>(o.via.i64);
    return true;
  case msgpack::type::FLOAT32:
  case msgpack::type::FLOAT64:
    x = o.via.f64;
    return true;
  default:
    return false;
  }
}

std::vector<uint8_t> to_bytes(const msgpack::sbuffer& buf) {
  auto p = reinterpret_cast<const uint8_t*>(buf.data());
  return {p, p + buf.size()};
}

} // namespace dine
