#include "runtime/balancer.hpp"

#include "messages/errc.hpp"
#include "runtime/balance_hash.hpp"
#include "runtime/balance_latency.hpp"
#include "runtime/balance_load.hpp"
#include "runtime/balance_random.hpp"
#include "runtime/balance_weighted.hpp"

namespace dine {

balancer::~balancer() {
  // nop
}

bool balancer::uses_key() const noexcept {
  return false;
}

bool balancer::uses_feedback() const noexcept {
  return false;
}

void balancer::observe(uint64_t, duration, bool) {
  // nop
}

void balancer::forget(uint64_t) {
  // nop
}

size_t count_eligible(const std::vector<worker_view>& pool) noexcept {
  size_t result = 0;
  for (auto& w : pool)
    if (w.has_slot())
      ++result;
  return result;
}

size_t nth_eligible(const std::vector<worker_view>& pool, size_t n) noexcept {
  for (size_t i = 0; i < pool.size(); ++i)
    if (pool[i].has_slot() && n-- == 0)
      return i;
  return balancer::none;
}

const char* round_robin::name() const noexcept {
  return "round_robin";
}

size_t round_robin::do_pick(const std::vector<worker_view>& pool, uint64_t) {
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

const std::vector<std::string>& balancer_names() {
  static const std::vector<std::string> names{
      "round_robin",     "least_connections",    "random",
      "least_latency",   "power_of_two_choices", "weighted",
      "consistent_hash", "modulo_hash",
  };
  return names;
}

namespace {

std::string joined_names() {
  std::string result;
  for (auto& x : balancer_names()) {
    if (!result.empty())
      result += ", ";
    result += x;
  }
  return result;
}

} // namespace

bool balancer_uses_key(const std::string& name) {
  return name == "consistent_hash" || name == "modulo_hash";
}

caf::expected<std::unique_ptr<balancer>>
make_balancer(const std::string& name, const balancer_config& cfg) {
  if (!ewma::valid_alpha(cfg.latency_alpha))
    return make_error(errc::invalid_config,
                      "balancer latency alpha must lie in (0, 1]");
  if (!(cfg.failure_penalty >= 1.0))
    return make_error(errc::invalid_config,
                      "balancer failure penalty must be at least 1");
  if (cfg.virtual_nodes == 0)
    return make_error(errc::invalid_config,
                      "balancer virtual nodes must be at least 1");
  std::unique_ptr<balancer> result;
  if (name == "round_robin")
    result.reset(new round_robin);
  else if (name == "least_connections")
    result.reset(new least_connections);
  else if (name == "random")
    result.reset(new random_choice(cfg.seed));
  else if (name == "least_latency")
    result.reset(new least_latency(cfg.latency_alpha, cfg.failure_penalty));
  else if (name == "power_of_two_choices")
    result.reset(new power_of_two_choices(cfg.seed));
  else if (name == "weighted")
    result.reset(new weighted);
  else if (name == "consistent_hash")
    result.reset(new consistent_hash(cfg.virtual_nodes));
  else if (name == "modulo_hash")
    result.reset(new modulo_hash);
  else
    return make_error(errc::invalid_config,
                      "unknown balancing strategy `" + name +
                          "` (valid: " + joined_names() + ")");
  return result;
}

} // namespace dine
