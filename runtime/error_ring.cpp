#include "runtime/error_ring.hpp"

#include <algorithm>

namespace dine {

namespace {

/// Cuts `s` to at most `n` bytes without splitting a UTF-8 sequence.
std::string cut(const std::string& s, size_t n) {
  if (s.size() <= n)
    return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
    --n;
  return s.substr(0, n) + "...";
}

} // namespace

error_ring::error_ring(size_t capacity)
    : capacity_(std::max<size_t>(capacity, 1)) {
  // nothing else
}

void error_ring::add(uint64_t time_ms, const std::string& model,
                     std::string code, const std::string& message) {
  if (ring_.size() == capacity_)
    ring_.pop_front();
  entry e;
  e.seq = next_seq_++;
  e.time_ms = time_ms;
  e.model = cut(model, max_model);
  e.code = std::move(code);
  e.message = cut(message, max_message);
  ring_.push_back(std::move(e));
}

} // namespace dine
