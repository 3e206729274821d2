#pragma once

// The expiry header of stored records: 8 bytes, little endian, the absolute
// expiry in Unix-epoch milliseconds (0 = never), in front of the value.
// `lmdb_store` puts one in front of every LMDB record, and the response
// cache one in front of every value it hands the store (runtime/
// cache_policy.hpp says why it needs its own).

#include <cstddef>
#include <cstdint>

namespace dine {

/// Bytes of an expiry header.
constexpr size_t expiry_header_size = 8;

/// Writes the header for `expiry_ms` to `p[0..8)`.
inline void write_expiry(uint8_t* p, uint64_t expiry_ms) noexcept {
  for (size_t i = 0; i < expiry_header_size; ++i)
    p[i] = static_cast<uint8_t>(expiry_ms >> (8 * i));
}

/// Reads the header at `p[0..8)`.
inline uint64_t read_expiry(const void* ptr) noexcept {
  auto p = static_cast<const uint8_t*>(ptr);
  uint64_t x = 0;
  for (size_t i = 0; i < expiry_header_size; ++i)
    x |= static_cast<uint64_t>(p[i]) << (8 * i);
  return x;
}

/// Whether a record with `expiry_ms` is stale at `now_ms` (0 never is).
constexpr bool is_expired(uint64_t expiry_ms, uint64_t now_ms) noexcept {
  return expiry_ms != 0 && expiry_ms <= now_ms;
}

} // namespace dine
