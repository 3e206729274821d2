// cache_key: MurmurHash3_x64_128 test vectors and the key format.

#include <doctest/doctest.h>

#include <cstring>
#include <set>

#include "runtime/cache_key.hpp"

using namespace dine;

namespace {

std::string hex_of(const char* str) {
  return to_hex(hash128(str, strlen(str)));
}

} // namespace

TEST_CASE("cache key hash128 matches MurmurHash3_x64_128 vectors") {
  // Reference values of the original C++ implementation, seed 0; they cover
  // the empty input, every tail length class and a full 16-byte block.
  CHECK(hex_of("") == "00000000000000000000000000000000");
  CHECK(hex_of("a") == "85555565f6597889e6b53a48510e895a");
  CHECK(hex_of("The quick brown fox jumps over the lazy dog") ==
        "e34bbc7bbc071b6c7a433ca9c49a9347");
  CHECK(hex_of("0123456789abcdef") == "4be06d94cf4ad1a787c35b5c63a708da");
  CHECK(hex_of("0123456789abcdef0") == "eb24ae8785a5c07573fb68b3313128ca");
}

TEST_CASE("cache key has a readable prefix and a stable hash") {
  std::vector<uint8_t> inputs{0x93, 0x01, 0x02}; // msgpack [1, 2, ...]
  auto key = cache_key("echo", 1, inputs);
  CHECK(key == "echo@1:0667412df295383b1bbc41ec7f207f9d");
  CHECK(key.size() == 7 + 32);
  CHECK(cache_key("echo", 1, inputs) == key);
  // Model, version and inputs all change the key.
  CHECK(cache_key("echo", 2, inputs) != key);
  CHECK(cache_key("echo2", 1, inputs) != key);
  inputs[2] = 0x03;
  CHECK(cache_key("echo", 1, inputs) != key);
  CHECK(cache_key("m", 7, {}) == "m@7:00000000000000000000000000000000");
}

TEST_CASE("cache key for a user key is apart from hashed inputs") {
  auto key = cache_key_for_key("echo", 1, "user-42");
  CHECK(key.rfind("echo@1:key:", 0) == 0);
  CHECK(key.size() == 11 + 32);
  CHECK(cache_key_for_key("echo", 1, "user-42") == key);
  CHECK(cache_key_for_key("echo", 1, "user-43") != key);
  // The same bytes as inputs or as user key give different keys.
  std::string raw = "user-42";
  std::vector<uint8_t> as_inputs(raw.begin(), raw.end());
  CHECK(cache_key("echo", 1, as_inputs) != key);
  // A long user key still gives a short key (LMDB allows 511 bytes).
  CHECK(cache_key_for_key("echo", 1, std::string(10000, 'x')).size() == 43);
}

TEST_CASE("cache key hash has no collisions on small distinct inputs") {
  std::set<std::string> seen;
  std::vector<uint8_t> buf;
  for (int len = 0; len < 40; ++len) {
    buf.assign(static_cast<size_t>(len), 0);
    for (int pos = 0; pos < len; ++pos) {
      buf[static_cast<size_t>(pos)] = 1;
      seen.insert(to_hex(hash128(buf.data(), buf.size())));
      buf[static_cast<size_t>(pos)] = 0;
    }
    seen.insert(to_hex(hash128(buf.data(), buf.size())));
  }
  // One all-zero input per length plus one per (length, position).
  CHECK(seen.size() == 40 + 39 * 40 / 2);
}
