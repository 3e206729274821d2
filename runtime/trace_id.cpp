#include "runtime/trace_id.hpp"

#include <chrono>
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

void write_hex16(uint64_t x, char* out) noexcept {
  static constexpr char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, x >>= 4)
    out[i] = digits[x & 0xf];
}

} // namespace

void trace_ids::write(uint64_t n, char* out) noexcept {
  write_hex16(process_prefix(), out);
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
