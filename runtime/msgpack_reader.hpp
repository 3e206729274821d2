#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dine {

/// A bounds-checked, allocation-free msgpack reader over one buffer. Every
/// length read from the input is checked against the bytes that remain
/// before it is used, so hostile input cannot make it read out of bounds,
/// allocate, or loop longer than the input is long.
class msgpack_reader {
public:
  /// The broad kind of the next value.
  enum class kind {
    nil,
    boolean,
    uint,
    sint,
    real,
    str,
    bin,
    array,
    map,
    ext,
    invalid,
    end
  };

  msgpack_reader(const uint8_t* data, size_t size, size_t max_depth = 32)
      : pos_(data), end_(data + size), max_depth_(max_depth) {
    // nop
  }

  /// Returns false once any read failed; the reader stays failed.
  bool ok() const noexcept { return ok_; }

  /// Returns the current read position.
  const uint8_t* pos() const noexcept { return pos_; }

  /// Returns whether all input was consumed.
  bool at_end() const noexcept { return pos_ == end_; }

  /// Returns the kind of the next value without consuming it.
  kind peek() const noexcept;

  bool read_map_header(uint32_t& n);
  bool read_array_header(uint32_t& n);
  bool read_str(std::string_view& x);
  bool read_bin(std::string_view& x);
  /// Reads a non-negative integer (any msgpack integer encoding).
  bool read_uint(uint64_t& x);
  /// Reads a signed integer that fits in int64.
  bool read_int(int64_t& x);
  bool read_bool(bool& x);
  bool read_double(double& x);
  /// Reads a nil value.
  bool read_nil();

  /// Validates and skips one complete value, nested at most `max_depth`
  /// levels. Returns false on malformed or too deep input.
  bool skip();

  /// Returns true if the last failure was caused by nesting too deep.
  bool too_deep() const noexcept { return too_deep_; }

private:
  bool fail() noexcept {
    ok_ = false;
    return false;
  }
  bool need(size_t n) noexcept {
    if (!ok_ || static_cast<size_t>(end_ - pos_) < n)
      return fail();
    return true;
  }
  uint64_t be(size_t n) noexcept;
  bool skip_impl(size_t depth);

  const uint8_t* pos_;
  const uint8_t* end_;
  size_t max_depth_;
  bool ok_ = true;
  bool too_deep_ = false;
};

/// Moves `rd`, at a msgpack map, to the value of the map's first entry
/// named `key`. Returns false if the next value is not a map, has no such
/// entry, or is malformed (then `rd.ok()` is false).
bool find_map_key(msgpack_reader& rd, std::string_view key);

} // namespace dine
