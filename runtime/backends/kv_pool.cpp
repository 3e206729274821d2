#include "runtime/backends/kv_pool.hpp"

#include "messages/errc.hpp"

namespace dine {

caf::expected<std::unique_ptr<kv_pool>>
kv_pool::make(const model_shape& s, uint64_t bytes, uint32_t block_size) {
  if (block_size == 0)
    return make_error(errc::invalid_config, "kv-block-size must be positive");
  uint64_t per_block = uint64_t{2} * block_size * uint64_t(s.kv_dim()) *
                       uint64_t(s.n_layers) * sizeof(float);
  uint64_t n = bytes / per_block;
  if (n == 0)
    return make_error(errc::invalid_config,
                      "kv-cache-bytes " + std::to_string(bytes) +
                          " holds no KV block (one block of " +
                          std::to_string(block_size) + " tokens needs " +
                          std::to_string(per_block) + " bytes)");
  if (n > UINT32_MAX)
    n = UINT32_MAX;
  return std::make_unique<kv_pool>(s, block_size, static_cast<uint32_t>(n));
}

kv_pool::kv_pool(const model_shape& s, uint32_t block_size, uint32_t n_blocks)
    : block_size_(block_size), n_blocks_(n_blocks) {
  layer_floats_ = size_t{2} * block_size * size_t(s.kv_dim());
  block_floats_ = layer_floats_ * size_t(s.n_layers);
  data_.reset(new float[block_floats_ * n_blocks]);
  free_.reserve(n_blocks);
  for (uint32_t i = n_blocks; i > 0; --i)
    free_.push_back(i - 1);
}

bool kv_pool::reserve(uint32_t n) {
  if (n > n_blocks_ - reserved_)
    return false;
  reserved_ += n;
  return true;
}

void kv_pool::unreserve(uint32_t n) {
  reserved_ = n > reserved_ ? 0 : reserved_ - n;
}

bool kv_pool::take(uint32_t& id) {
  if (free_.empty())
    return false;
  id = free_.back();
  free_.pop_back();
  return true;
}

void kv_pool::give(uint32_t id) {
  free_.push_back(id);
}

} // namespace dine
