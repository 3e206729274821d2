#pragma once

// Admission of client connections (docs/security.md, "Client port"):
// `max-connections` in total and `max-connections-per-address` from one
// remote address. Used by the client acceptor only (one actor): not
// thread-safe.

#include <cstdint>
#include <string>
#include <unordered_map>

#include "messages/errc.hpp"

namespace dine {

/// Counts open connections per address against two limits (0 = none).
class conn_limits {
public:
  conn_limits(uint32_t max_total, uint32_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {
    // nop
  }

  /// Admits a connection from `addr` (counted until `release`), or returns
  /// `errc::too_many_connections` and counts a refusal. `why` gets the
  /// message for the refused client.
  errc admit(const std::string& addr, std::string& why);

  /// Forgets one connection from `addr`.
  void release(const std::string& addr);

  /// Returns the number of open (admitted) connections.
  uint32_t open() const noexcept { return open_; }

  /// Returns how many connections were refused so far.
  uint64_t refused() const noexcept { return refused_; }

private:
  uint32_t max_total_;
  uint32_t max_per_address_;
  uint32_t open_ = 0;
  uint64_t refused_ = 0;
  std::unordered_map<std::string, uint32_t> per_addr_;
};

} // namespace dine
