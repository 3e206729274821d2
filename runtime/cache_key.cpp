#include "runtime/cache_key.hpp"

namespace dine {

namespace {

constexpr uint64_t c1 = 0x87c37b91114253d5ULL;
constexpr uint64_t c2 = 0x4cf5ad432745937fULL;

constexpr uint64_t rotl(uint64_t x, int r) noexcept {
  return (x << r) | (x >> (64 - r));
}

constexpr uint64_t fmix(uint64_t k) noexcept {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

/// Reads `n` (at most 8) bytes at `p` as a little-endian integer.
uint64_t load_le(const uint8_t* p, size_t n) noexcept {
  uint64_t x = 0;
  for (size_t i = 0; i < n; ++i)
    x |= static_cast<uint64_t>(p[i]) << (8 * i);
  return x;
}

uint64_t mix_k1(uint64_t k1) noexcept {
  return rotl(k1 * c1, 31) * c2;
}

uint64_t mix_k2(uint64_t k2) noexcept {
  return rotl(k2 * c2, 33) * c1;
}

std::string prefix(std::string_view model, uint32_t version, size_t extra) {
  auto ver = std::to_string(version);
  std::string result;
  result.reserve(model.size() + 1 + ver.size() + 1 + extra);
  result.append(model.data(), model.size());
  result += '@';
  result += ver;
  result += ':';
  return result;
}

} // namespace

hash128_t hash128(const void* data, size_t size, uint32_t seed) noexcept {
  auto bytes = static_cast<const uint8_t*>(data);
  uint64_t h1 = seed;
  uint64_t h2 = seed;
  size_t blocks = size / 16;
  for (size_t i = 0; i < blocks; ++i) {
    auto block = bytes + i * 16;
    h1 ^= mix_k1(load_le(block, 8));
    h1 = (rotl(h1, 27) + h2) * 5 + 0x52dce729;
    h2 ^= mix_k2(load_le(block + 8, 8));
    h2 = (rotl(h2, 31) + h1) * 5 + 0x38495ab5;
  }
  auto tail = bytes + blocks * 16;
  size_t rest = size & 15;
  if (rest > 8)
    h2 ^= mix_k2(load_le(tail + 8, rest - 8));
  if (rest > 0)
    h1 ^= mix_k1(load_le(tail, rest < 8 ? rest : 8));
  h1 ^= static_cast<uint64_t>(size);
  h2 ^= static_cast<uint64_t>(size);
  h1 += h2;
  h2 += h1;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 += h2;
  h2 += h1;
  return {h1, h2};
}

std::string to_hex(const hash128_t& x) {
  constexpr char digits[] = "0123456789abcdef";
  std::string result(32, '0');
  for (int i = 0; i < 16; ++i) {
    result[15 - i] = digits[(x.h1 >> (4 * i)) & 0xF];
    result[31 - i] = digits[(x.h2 >> (4 * i)) & 0xF];
  }
  return result;
}

std::string cache_key(std::string_view model, uint32_t version,
                      const std::vector<uint8_t>& inputs) {
  auto result = prefix(model, version, 32);
  result += to_hex(hash128(inputs.data(), inputs.size()));
  return result;
}

std::string cache_key_for_key(std::string_view model, uint32_t version,
                              std::string_view user_key) {
  auto result = prefix(model, version, 36);
  result += "key:";
  result += to_hex(hash128(user_key.data(), user_key.size()));
  return result;
}

} // namespace dine
