#include "runtime/cluster_token.hpp"

#include <algorithm>

namespace dine {

bool constant_time_equal(const std::string& a, const std::string& b) {
  // Every byte of the longer string is visited; no early exit.
  auto n = std::max(a.size(), b.size());
  unsigned diff = a.size() != b.size() ? 1u : 0u;
  for (size_t i = 0; i < n; ++i) {
    auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0u;
    auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0u;
    diff |= x ^ y;
  }
  return diff == 0;
}

bool join_allowed(const std::string& expected, const std::string& given) {
  if (expected.empty())
    return true;
  return constant_time_equal(expected, given);
}

} // namespace dine
