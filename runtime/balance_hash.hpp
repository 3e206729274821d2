#pragma once

#include <utility>

#include "runtime/balancer.hpp"
#include "runtime/hash_ring.hpp"

namespace dine {

/// Maps the key hash onto a `hash_ring` over the pool's worker ids and
/// takes the first worker clockwise; if it has no free slot, the next
/// distinct worker on the ring that has one. While the pool's membership
/// is stable the same key reaches the same worker; when a worker joins or
/// leaves, only about 1/N of the keys move. Workers sharing an id (which
/// they should not) share one place on the ring.
class consistent_hash : public balancer {
public:
  explicit consistent_hash(
      size_t virtual_nodes = hash_ring::default_virtual_nodes);

  const char* name() const noexcept override;

  bool uses_key() const noexcept override;

  /// Returns the ring as of the last pick.
  const hash_ring& ring() const noexcept { return ring_; }

protected:
  size_t do_pick(const std::vector<worker_view>& pool,
                 uint64_t key_hash) override;

private:
  /// Brings the ring and the id index up to date with `pool`.
  void sync(const std::vector<worker_view>& pool);

  hash_ring ring_;
  std::vector<uint64_t> ids_;                      // pool order
  std::vector<std::pair<uint64_t, size_t>> index_; // (id, pool index), sorted
};

/// Starts at index `key_hash % N` of the pool (in the caller's order) and
/// takes the first worker from there, wrapping around, that has a free
/// slot. Changing N moves almost every key; see `consistent_hash`.
class modulo_hash : public balancer {
public:
  const char* name() const noexcept override;

  bool uses_key() const noexcept override;

protected:
  size_t do_pick(const std::vector<worker_view>& pool,
                 uint64_t key_hash) override;
};

} // namespace dine
