#include "runtime/balance_load.hpp"

namespace dine {

const char* least_connections::name() const noexcept {
  return "least_connections";
}

size_t least_connections::do_pick(const std::vector<worker_view>& pool,
                                  uint64_t) {
  auto n = pool.size();
  auto best = none;
  for (size_t i = 0; i < n; ++i) {
    auto idx = (next_ + i) % n;
    auto& w = pool[idx];
    if (w.has_slot() &&
        (best == none || w.outstanding < pool[best].outstanding))
      best = idx;
  }
  if (best != none)
    next_ = best + 1;
  return best;
}

power_of_two_choices::power_of_two_choices(uint64_t seed) : gen_(seed) {
  // nop
}

power_of_two_choices::power_of_two_choices(std::mt19937_64 gen)
    : gen_(std::move(gen)) {
  // nop
}

const char* power_of_two_choices::name() const noexcept {
  return "power_of_two_choices";
}

size_t power_of_two_choices::do_pick(const std::vector<worker_view>& pool,
                                     uint64_t) {
  auto n = count_eligible(pool);
  if (n == 0)
    return none;
  if (n == 1)
    return nth_eligible(pool, 0);
  auto a = std::uniform_int_distribution<size_t>{0, n - 1}(gen_);
  auto b = std::uniform_int_distribution<size_t>{0, n - 2}(gen_);
  if (b >= a)
    ++b;
  auto first = nth_eligible(pool, a);
  auto second = nth_eligible(pool, b);
  return pool[second].outstanding < pool[first].outstanding ? second : first;
}

} // namespace dine
