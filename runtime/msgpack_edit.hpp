#pragma once

// Small edits of msgpack values for the pipeline steps: unpack safely,
// find a map key, and write a map again with some entries replaced.

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <msgpack.hpp>

namespace dine {

using msgpack_out = msgpack::packer<msgpack::sbuffer>;

/// Unpacks `bytes` with `safe_unpack`; errors are `invalid_input` that
/// start with `what`.
caf::expected<msgpack::object> unpack_value(msgpack::zone& zone,
                                            const std::vector<uint8_t>& bytes,
                                            const char* what);

/// Returns the value of the first entry of map `m` named `key`, or null
/// (also when `m` is not a map).
const msgpack::object* map_find(const msgpack::object& m, std::string_view key);

/// Returns whether `o` is a number; stores it in `x`.
bool as_number(const msgpack::object& o, double& x);

/// Copies `buf` into a byte vector.
std::vector<uint8_t> to_bytes(const msgpack::sbuffer& buf);

/// Writes map `m` without its entries named in `drop`, followed by `added`
/// entries that `add(pk)` writes.
template <class F>
std::vector<uint8_t> rewrite_map(const msgpack::object& m,
                                 std::initializer_list<std::string_view> drop,
                                 uint32_t added, F add) {
  auto dropped = [&](const msgpack::object& k) {
    if (k.type != msgpack::type::STR)
      return false;
    std::string_view key{k.via.str.ptr, k.via.str.size};
    for (auto d : drop)
      if (key == d)
        return true;
    return false;
  };
  uint32_t kept = 0;
  for (uint32_t i = 0; i < m.via.map.size; ++i)
    if (!dropped(m.via.map.ptr[i].key))
      ++kept;
  msgpack::sbuffer buf;
  msgpack_out pk{buf};
  pk.pack_map(kept + added);
  for (uint32_t i = 0; i < m.via.map.size; ++i) {
    auto& kv = m.via.map.ptr[i];
    if (dropped(kv.key))
      continue;
    pk.pack(kv.key);
    pk.pack(kv.val);
  }
  add(pk);
  return to_bytes(buf);
}

} // namespace dine
