#include "runtime/balance_random.hpp"

namespace dine {

random_choice::random_choice(uint64_t seed) : gen_(seed) {
  // nop
}

random_choice::random_choice(std::mt19937_64 gen) : gen_(std::move(gen)) {
  // nop
}

const char* random_choice::name() const noexcept {
  return "random";
}

size_t random_choice::do_pick(const std::vector<worker_view>& pool, uint64_t) {
  auto n = count_eligible(pool);
  if (n == 0)
    return none;
  auto k = std::uniform_int_distribution<size_t>{0, n - 1}(gen_);
  return nth_eligible(pool, k);
}

} // namespace dine
