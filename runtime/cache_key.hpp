#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dine {

/// A 128-bit hash value.
struct hash128_t {
  uint64_t h1 = 0;
  uint64_t h2 = 0;

  friend bool operator==(const hash128_t& x, const hash128_t& y) noexcept {
    return x.h1 == y.h1 && x.h2 == y.h2;
  }

  friend bool operator!=(const hash128_t& x, const hash128_t& y) noexcept {
    return !(x == y);
  }
};

/// Computes MurmurHash3_x64_128 (Austin Appleby's public-domain algorithm,
/// seed `seed`) of `size` bytes at `data`. Blocks are read as little-endian
/// on every platform, so the result is stable across hosts and releases.
hash128_t hash128(const void* data, size_t size, uint32_t seed = 0) noexcept;

/// Renders `x` as 32 lowercase hex digits: `h1`, then `h2`, each most
/// significant digit first.
std::string to_hex(const hash128_t& x);

/// Returns the cache (and sharding) key of a request without its own `key`:
/// `"<model>@<version>:<32 hex digits>"`, e.g. `"echo@1:3f2a..."`, where the
/// digits are `hash128` of `inputs`.
///
/// `inputs` are the msgpack bytes exactly as the client sent them: the hash
/// does not canonicalize them, so two encodings of the same value (say, an
/// integer as fixint or as uint32, or a map with its keys in another order)
/// yield different keys. That is acceptable: it costs at most a cache miss,
/// never a wrong answer, and a client that repeats a request sends the same
/// bytes.
///
/// The format is persisted in the LMDB cache: changing it invalidates stored
/// entries. The key is unambiguous when read from the right: 32 hex digits,
/// `:`, decimal digits, `@`, then the model name.
std::string cache_key(std::string_view model, uint32_t version,
                      const std::vector<uint8_t>& inputs);

/// Returns the cache key of a request that gives its own `key`:
/// `"<model>@<version>:key:<32 hex digits>"`, the digits being `hash128` of
/// `user_key`. Hashing bounds the length (LMDB keys are at most 511 bytes)
/// and the `key:` marker keeps these keys apart from `cache_key` ones.
std::string cache_key_for_key(std::string_view model, uint32_t version,
                              std::string_view user_key);

} // namespace dine
