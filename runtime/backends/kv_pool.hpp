#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/backends/checkpoint.hpp"

namespace dine {

/// A paged attention KV cache (as vLLM pages it): one preallocated pool of
/// fixed-size blocks, each holding `block_size` tokens' keys and values of
/// every layer, laid out [layer][k|v][slot][kv_dim]. A sequence owns a
/// table of block ids, taken as it grows and returned when it ends.
/// Admission reserves a sequence's worst case first, so taking a block
/// within a reservation never fails: the pool never over-commits.
class kv_pool {
public:
  /// Sizes the pool for `s` from `bytes`; an error if not even one block
  /// of `block_size` tokens fits.
  static caf::expected<std::unique_ptr<kv_pool>>
  make(const model_shape& s, uint64_t bytes, uint32_t block_size);

  kv_pool(const model_shape& s, uint32_t block_size, uint32_t n_blocks);

  uint32_t block_size() const { return block_size_; }
  uint32_t total() const { return n_blocks_; }
  uint32_t used() const {
    return n_blocks_ - static_cast<uint32_t>(free_.size());
  }
  uint32_t reserved() const { return reserved_; }
  uint64_t bytes_per_block() const { return block_floats_ * sizeof(float); }

  /// Returns how many blocks `tokens` tokens occupy.
  uint32_t blocks_for(uint64_t tokens) const {
    return static_cast<uint32_t>((tokens + block_size_ - 1) / block_size_);
  }

  /// Reserves `n` blocks for one sequence if that many are unreserved.
  bool reserve(uint32_t n);

  /// Returns a reservation of `n` blocks.
  void unreserve(uint32_t n);

  /// Takes a free block (within a reservation); returns false if none.
  bool take(uint32_t& id);

  /// Returns block `id` to the pool.
  void give(uint32_t id);

  /// Returns the keys of `layer` in block `id` (block_size x kv_dim); the
  /// values follow at `+ block_size * kv_dim`.
  float* keys(uint32_t id, int32_t layer) {
    return data_.get() + id * block_floats_ + layer * layer_floats_;
  }

private:
  uint32_t block_size_;
  uint32_t n_blocks_;
  size_t layer_floats_; // 2 * block_size * kv_dim
  size_t block_floats_; // n_layers * layer_floats_
  uint32_t reserved_ = 0;
  std::unique_ptr<float[]> data_;
  std::vector<uint32_t> free_;
};

} // namespace dine
