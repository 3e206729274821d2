#include "runtime/trace_id.hpp"

#include <chrono>
#include <cstring>
#include <random>

namespace dine {

namespace {

uint64_t process_prefix() {
  static const uint64_t prefix = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
           static_cast<uint64_t>(
               std::chrono::steady_clock::now().time_since_epoch().count());
  }();
  return prefix;
}

/// Two hex digits per byte value: 8 table loads for 16 digits, no
/// per-digit dependency chain (the reply encoder calls this per request).
struct hex_pairs {
  char d[256][2];
  hex_pairs() noexcept {
    static constexpr char digits[] = "0123456789abcdef";
    for (int i = 0; i < 256; ++i) {
      d[i][0] = digits[i >> 4];
      d[i][1] = digits[i & 0xf];
    }
  }
};

void write_hex16(uint64_t x, char* out) noexcept {
  static const hex_pairs pairs;
  for (int i = 7; i >= 0; --i, x >>= 8)
    memcpy(out + 2 * i, pairs.d[x & 0xff], 2);
}

/// The prefix's 16 digits, written once.
struct prefix_digits {
  char d[16];
  prefix_digits() noexcept { write_hex16(process_prefix(), d); }
};

} // namespace

void trace_ids::write(uint64_t n, char* out) noexcept {
  static const prefix_digits prefix;
  memcpy(out, prefix.d, 16);
  write_hex16(n, out + 16);
}

std::string trace_ids::text(uint64_t n) {
  std::string out(32, '0');
  write(n, out.data());
  return out;
}

std::string trace_of(const client_reply& r) {
  if (!r.trace.empty() || r.trace_n == 0)
    return r.trace;
  return trace_ids::text(r.trace_n);
}

} // namespace dine
