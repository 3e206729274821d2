#include "runtime/conn_limits.hpp"

namespace dine {

errc conn_limits::admit(const std::string& addr, std::string& why) {
  if (max_total_ != 0 && open_ >= max_total_) {
    ++refused_;
    why = "the node has max-connections (" + std::to_string(max_total_) +
          ") open";
    return errc::too_many_connections;
  }
  auto& n = per_addr_[addr];
  if (max_per_address_ != 0 && n >= max_per_address_) {
    if (n == 0)
      per_addr_.erase(addr);
    ++refused_;
    why = "address " + addr + " has max-connections-per-address (" +
          std::to_string(max_per_address_) + ") open";
    return errc::too_many_connections;
  }
  ++n;
  ++open_;
  return errc::none;
}

void conn_limits::release(const std::string& addr) {
  auto i = per_addr_.find(addr);
  if (i == per_addr_.end())
    return;
  if (--i->second == 0)
    per_addr_.erase(i);
  if (open_ > 0)
    --open_;
}

} // namespace dine
