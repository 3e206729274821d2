#include "runtime/balancer.hpp"

#include "messages/errc.hpp"

namespace dine {

balancer::~balancer() {
  // nop
}

size_t round_robin::pick(const std::vector<worker_view>& pool) {
  auto n = pool.size();
  for (size_t i = 0; i < n; ++i) {
    auto idx = (next_ + i) % n;
    if (pool[idx].has_slot()) {
      next_ = idx + 1;
      return idx;
    }
  }
  return none;
}

caf::expected<std::unique_ptr<balancer>>
make_balancer(const std::string& name) {
  if (name == "round_robin")
    return std::unique_ptr<balancer>{new round_robin};
  return make_error(errc::invalid_config,
                    "unknown balancing strategy `" + name + "`");
}

} // namespace dine
