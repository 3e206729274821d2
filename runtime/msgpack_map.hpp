#pragma once

// Writes a msgpack map field by field, counting the fields itself: the
// admin ops' outputs (runtime/ops_encode.cpp) are built from it instead of
// hand-counted `pack_map(N)` headers followed by key/value runs.

#include <cstdint>
#include <iterator>
#include <string_view>
#include <type_traits>
#include <vector>

#include <msgpack.hpp>

namespace dine {

/// One msgpack map under construction. Each `add` packs a key (a msgpack
/// str) and its value into a body buffer; `bytes` and nesting as a value
/// write the map header with the number of fields added, then the body.
/// Not copyable or movable (its packer points into its own buffer).
class msgpack_map {
public:
  msgpack_map() = default;

  msgpack_map(const msgpack_map&) = delete;

  msgpack_map& operator=(const msgpack_map&) = delete;

  /// Adds `key: value`. Strings (anything convertible to
  /// `std::string_view`) become msgpack str; a `msgpack_map` becomes a
  /// nested map; anything else is packed by msgpack-c (integers in their
  /// smallest form, `double` as float 64, `bool`, vectors and sets as
  /// arrays).
  template <class T>
  msgpack_map& add(std::string_view key, const T& value) {
    str(key);
    put(value);
    ++size_;
    return *this;
  }

  /// Adds `key: [map of x for x in xs]`, where `fill(map, x)` adds the
  /// fields of element `x`'s map.
  template <class Range, class Fill>
  msgpack_map& add_maps(std::string_view key, const Range& xs, Fill fill) {
    str(key);
    pk_.pack_array(static_cast<uint32_t>(std::size(xs)));
    for (auto& x : xs) {
      msgpack_map m;
      fill(m, x);
      put(m);
    }
    ++size_;
    return *this;
  }

  /// The fields added so far.
  uint32_t size() const noexcept { return size_; }

  /// The encoded map: header, then the fields in the order added.
  std::vector<uint8_t> bytes() const {
    msgpack::sbuffer buf{body_.size() + 5};
    msgpack::packer<msgpack::sbuffer> pk{buf};
    pk.pack_map(size_);
    buf.write(body_.data(), body_.size());
    return {buf.data(), buf.data() + buf.size()};
  }

private:
  void str(std::string_view s) {
    pk_.pack_str(static_cast<uint32_t>(s.size()));
    pk_.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  }

  template <class T>
  void put(const T& value) {
    if constexpr (std::is_same_v<T, msgpack_map>) {
      pk_.pack_map(value.size_);
      body_.write(value.body_.data(), value.body_.size());
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      str(value);
    } else {
      pk_.pack(value);
    }
  }

  msgpack::sbuffer body_;
  msgpack::packer<msgpack::sbuffer> pk_{body_};
  uint32_t size_ = 0;
};

} // namespace dine
