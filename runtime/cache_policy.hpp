#pragma once

// Building blocks of the cache actor (actors/cache.hpp) that need no actor:
// the record format it keeps in LMDB, expiry arithmetic, and the buffer of
// writes waiting for the next flush.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/expiry_record.hpp"
#include "runtime/lmdb_store.hpp"
#include "runtime/lru_cache.hpp"

namespace dine {

/// Bytes of the header in front of each value the cache stores in LMDB: the
/// absolute expiry (8 bytes, little endian, Unix-epoch ms, 0 = never). The
/// store keeps the same expiry in its own header, but `lmdb_store::get` does
/// not return it; the cache needs it to promote a disk hit into memory with
/// the right expiry.
constexpr size_t cache_record_header = expiry_header_size;

/// The longest key the cache accepts: LMDB's limit with its default page
/// size (`mdb_env_get_maxkeysize`).
constexpr size_t cache_max_key_bytes = 511;

/// Returns the absolute expiry (Unix-epoch ms, 0 = never) of an entry
/// written at `now_ms` with a TTL of `ttl_ms`; a `ttl_ms` of 0 selects
/// `default_ttl_ms`, and both 0 mean no expiry. Saturates instead of
/// overflowing.
uint64_t cache_expiry_ms(uint64_t now_ms, uint64_t ttl_ms,
                         uint64_t default_ttl_ms) noexcept;

/// Maps Unix-epoch milliseconds into the time domain of `lru_cache`, so that
/// memory and disk compare one and the same absolute expiry: the LRU's clock
/// becomes `to_lru_time(now_ms())`.
lru_cache::time_point to_lru_time(uint64_t ms) noexcept;

/// Like `to_lru_time`, but maps 0 (no expiry) to `lru_cache::never`.
lru_cache::time_point to_lru_expiry(uint64_t expiry_ms) noexcept;

/// Returns `value` prefixed with the 8-byte expiry header.
std::vector<uint8_t> encode_cache_record(uint64_t expiry_ms,
                                         const std::vector<uint8_t>& value);

/// A record as read back from LMDB.
struct cache_record {
  uint64_t expiry_ms = 0;
  std::vector<uint8_t> value;
};

/// Splits `bytes` into expiry and value; `std::nullopt` for a record shorter
/// than the header (a malformed record).
std::optional<cache_record> decode_cache_record(std::vector<uint8_t> bytes);

/// Reads only the expiry header of `record` (0 if it is malformed).
uint64_t cache_record_expiry(const std::vector<uint8_t>& record) noexcept;

/// Writes waiting for the next flush of a cache actor: at most one per key
/// (the latest put wins), so a flush writes each key once. Records are
/// encoded by `encode_cache_record`. Not thread-safe.
class write_buffer {
public:
  /// Adds or replaces the pending write of `key`.
  void put(std::string key, std::vector<uint8_t> record, uint64_t expiry_ms);

  /// Drops the pending write of `key`; returns whether there was one.
  bool erase(const std::string& key);

  /// Returns the pending record of `key`, or `nullptr`. The pointer stays
  /// valid until the next call of a non-const member function.
  const std::vector<uint8_t>* find(const std::string& key) const;

  /// Moves all pending writes out (in no particular order) and empties the
  /// buffer.
  std::vector<lmdb_entry> take();

  /// Drops all pending writes.
  void clear() noexcept;

  /// Returns the number of pending writes.
  size_t size() const noexcept { return entries_.size(); }

  /// Returns whether no write is pending.
  bool empty() const noexcept { return entries_.empty(); }

  /// Returns the sum of key and record sizes of all pending writes.
  size_t bytes() const noexcept { return bytes_; }

private:
  struct pending {
    std::vector<uint8_t> record;
    uint64_t expiry_ms = 0;
  };

  std::unordered_map<std::string, pending> entries_;
  size_t bytes_ = 0;
};

} // namespace dine
