#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace dine {

/// Tunables of an `outlier_detector`.
struct outlier_config {
  using duration = std::chrono::steady_clock::duration;

  /// Consecutive failures (timeouts included) that eject a worker, >= 1.
  uint32_t consecutive_failures = 5;
  /// Length of a first ejection, > 0.
  duration base_ejection_time = std::chrono::seconds{1};
  /// Cap of an ejection, >= `base_ejection_time`.
  duration max_ejection_time = std::chrono::seconds{30};
  /// Most workers of the pool ejected at once, in percent (rounded down),
  /// <= 100.
  uint32_t max_ejection_percent = 50;
  /// Each full interval a readmitted worker stays unejected forgives one
  /// past ejection (shortening its next one); 0 never forgives.
  duration decay_interval = std::chrono::seconds{30};
};

/// Checks `cfg`; returns an `errc::invalid_config` error naming the first
/// bad field.
caf::error check(const outlier_config& cfg);

/// Where a worker stands with its `outlier_detector`.
enum class outlier_state : uint8_t {
  /// In service.
  active,
  /// Ejected: gets no traffic until its ejection time passes.
  ejected,
  /// Ejection time passed: gets traffic again; the next success readmits
  /// it, the next failure ejects it again for twice as long.
  probing,
};

/// Returns `active`, `ejected` or `probing`.
const char* to_string(outlier_state x);

/// Returns the worse of two states of one worker in different pools
/// (ejected, then probing, then active), for merged stats.
outlier_state worse(outlier_state a, outlier_state b);

/// Per-pool outlier ejection, after Envoy's consecutive-failure detection.
/// A worker failing `consecutive_failures` times in a row (a success in
/// between resets the count) is ejected for `base_ejection_time × 2^k`,
/// capped at `max_ejection_time`, where k counts its past ejections. The
/// detector never ejects the last worker of the pool that is not ejected,
/// nor more than `max_ejection_percent` of the pool (a refused ejection is
/// retried on the worker's next failure); when the workers in service
/// leave, an ejected one is probed at once. After its ejection time a worker
/// is probing: it gets traffic again, a success readmits it and a failure
/// ejects it again at once, for longer. Reports that arrive while a worker
/// is ejected (late replies of batches sent before) are ignored. Past
/// ejections decay by one per `decay_interval` of service after
/// readmission. Plain state: the caller passes the time (`now`) in, so
/// tests need no clock.
class outlier_detector {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  /// Uses `cfg` with bad fields clamped to valid values; see `make`.
  explicit outlier_detector(outlier_config cfg = {});

  /// Makes a detector after checking `cfg`.
  static caf::expected<outlier_detector> make(const outlier_config& cfg);

  /// Adds worker `id` as active; returns false if it already was one.
  bool add(uint64_t id);

  /// Removes worker `id`; returns false if it was none. If only ejected
  /// workers remain, the one whose ejection ends first is probed at once:
  /// the pool never waits out an ejection while it has a worker.
  bool remove(uint64_t id, time_point now);

  /// Returns whether `id` is a worker of the pool.
  bool contains(uint64_t id) const noexcept;

  /// Returns the number of workers.
  size_t size() const noexcept { return members_.size(); }

  /// Records a success of worker `id`: resets its failure count and
  /// readmits it if probing. Ignored for unknown or ejected workers.
  void on_success(uint64_t id, time_point now);

  /// Records a failure or timeout of worker `id`; returns true if this
  /// ejected it. Ignored for unknown or ejected workers.
  bool on_failure(uint64_t id, time_point now);

  /// Returns the state of worker `id` (`active` for unknown workers).
  outlier_state state(uint64_t id, time_point now) const;

  /// Returns whether worker `id` is ejected at `now`.
  bool is_ejected(uint64_t id, time_point now) const;

  /// Returns whether worker `id` may get traffic at `now` (active or
  /// probing; true for unknown workers: no evidence against them).
  bool healthy(uint64_t id, time_point now) const {
    return !is_ejected(id, now);
  }

  /// Returns whether any worker is ejected or probing. When not, `state`
  /// is `active` for every worker: a caller that asks about every worker
  /// of a large pool per batch can skip the lookups (O(1)).
  bool any_out() const noexcept { return out_count_ > 0; }

  /// Returns how many workers are ejected at `now`.
  size_t ejected_count(time_point now) const;

  /// Returns when the next ejected worker starts probing, if any (for a
  /// timer that re-checks the pool).
  std::optional<time_point> next_readmission(time_point now) const;

  /// Returns the current run of failures of worker `id`.
  uint32_t consecutive_failures(uint64_t id) const;

  /// Returns the past ejections of worker `id` that still count.
  uint32_t ejections(uint64_t id) const;

  /// Returns the end of the current or last ejection of worker `id` while
  /// it is ejected or probing.
  std::optional<time_point> ejected_until(uint64_t id) const;

  /// Returns the configuration in use.
  const outlier_config& config() const noexcept { return cfg_; }

private:
  struct member {
    uint32_t failures = 0;
    uint32_t ejections = 0;
    bool out = false; // ejected or probing, i.e. not readmitted yet
    time_point until;
    time_point healthy_since;
  };

  /// Ejects `m` if the pool protections allow it.
  bool try_eject(member& m, time_point now);

  /// Forgives past ejections of `m` for its time in service.
  void decay(member& m, time_point now) const;

  /// Returns the length of the next ejection of `m`.
  duration ejection_time(const member& m) const;

  const member* find(uint64_t id) const;

  outlier_config cfg_;
  std::unordered_map<uint64_t, member> members_;
  size_t out_count_ = 0; ///< Members with `out` set.
};

} // namespace dine
