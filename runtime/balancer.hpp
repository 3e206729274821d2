#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/ewma.hpp"
#include "runtime/hash_ring.hpp"

namespace dine {

/// What a balancing strategy sees of one worker of a pool.
struct worker_view {
  uint32_t outstanding = 0; ///< Batches in flight.
  uint32_t capacity = 1;    ///< Batches it may have in flight.
  bool healthy = true;      ///< False while ejected or known to be down.
  /// Stable identity of the worker, e.g. `hash_key` of its name. Must be
  /// distinct within a pool for `consistent_hash` and `least_latency`.
  uint64_t id = 0;
  /// Declared share of the traffic for `weighted`; 0 means `capacity`.
  uint32_t weight = 0;

  /// Returns whether the worker can take a batch now.
  bool has_slot() const noexcept { return healthy && outstanding < capacity; }

  /// Returns `weight`, or `capacity` when unset, at least 1.
  uint32_t effective_weight() const noexcept {
    auto w = weight != 0 ? weight : capacity;
    return w != 0 ? w : 1;
  }
};

/// Tunables of the balancing strategies.
struct balancer_config {
  /// Seed of the generator of `random` and `power_of_two_choices`.
  uint64_t seed = 0x5EED5EED5EED5EEDull;
  /// Virtual nodes per worker of `consistent_hash`.
  size_t virtual_nodes = hash_ring::default_virtual_nodes;
  /// Weight of a new latency sample in `least_latency`, in (0, 1].
  double latency_alpha = ewma::default_alpha;
  /// `least_latency` records a failure as this factor (>= 1) times the
  /// larger of its latency and the slowest average in the pool.
  double failure_penalty = 4.0;
};

/// Picks the worker of a pool that gets the next batch. Strategies only
/// pick workers with `has_slot()`; they return `none` if there is none.
/// Not thread-safe: one instance per pool (per batcher).
class balancer {
public:
  using duration = std::chrono::steady_clock::duration;

  /// Returned when no worker can take a batch now.
  static constexpr size_t none = static_cast<size_t>(-1);

  virtual ~balancer();

  /// Returns the strategy's config name, e.g. `round_robin`.
  virtual const char* name() const noexcept = 0;

  /// Returns the index into `pool` of the chosen worker, or `none`.
  /// `key_hash` (e.g. `hash_key` of the request key) matters only to
  /// strategies whose `uses_key()` is true.
  size_t pick(const std::vector<worker_view>& pool, uint64_t key_hash) {
    return do_pick(pool, key_hash);
  }

  /// Same as `pick(pool, 0)`.
  size_t pick(const std::vector<worker_view>& pool) { return do_pick(pool, 0); }

  /// Returns whether the choice depends on the key hash.
  virtual bool uses_key() const noexcept;

  /// Returns whether the strategy learns from `observe`.
  virtual bool uses_feedback() const noexcept;

  /// Reports that a batch sent to worker `id` finished after `latency`;
  /// `ok` is false for a failure or timeout. The default ignores it.
  virtual void observe(uint64_t id, duration latency, bool ok);

  /// Drops whatever the strategy learned about worker `id` (call when it
  /// leaves the pool). The default does nothing.
  virtual void forget(uint64_t id);

protected:
  /// Implements `pick`.
  virtual size_t do_pick(const std::vector<worker_view>& pool,
                         uint64_t key_hash) = 0;
};

/// Returns how many workers of `pool` have a free slot.
size_t count_eligible(const std::vector<worker_view>& pool) noexcept;

/// Returns the index of the `n`-th (from 0) worker of `pool` with a free
/// slot, or `balancer::none`.
size_t nth_eligible(const std::vector<worker_view>& pool, size_t n) noexcept;

/// Takes healthy workers with a free slot in turn.
class round_robin : public balancer {
public:
  const char* name() const noexcept override;

protected:
  size_t do_pick(const std::vector<worker_view>& pool,
                 uint64_t key_hash) override;

private:
  size_t next_ = 0;
};

/// Returns whether the strategy `name` picks workers by key hash (its
/// `uses_key()`), without making one.
bool balancer_uses_key(const std::string& name);

/// Returns the names `make_balancer` accepts.
const std::vector<std::string>& balancer_names();

/// Makes the strategy named `name`: one of `round_robin`,
/// `least_connections`, `random`, `least_latency`, `power_of_two_choices`,
/// `weighted`, `consistent_hash`, `modulo_hash`. Fails with
/// `errc::invalid_config` for other names or an invalid `cfg`.
caf::expected<std::unique_ptr<balancer>>
make_balancer(const std::string& name, const balancer_config& cfg = {});

} // namespace dine
