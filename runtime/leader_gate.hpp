#pragma once

// leader_gate: whether a coordinator of an etcd cluster may serve clients
// now (docs/design.md, "Coordinator high availability"). The elector
// (actors/link/elector.hpp) writes it after every etcd call; every client
// connection reads it on each read and before writing replies, and the
// coordinator's `health` op reports it. Lock-free on the read path: one
// atomic load compared with the read's clock mark (runtime/stage_times.hpp).
// A node without `etcd` has no gate and always serves.

#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>

namespace dine {

/// What `health` reports about the election.
struct leader_status {
  bool leader = false;      ///< This coordinator leads (and serves).
  bool etcd_ok = true;      ///< The last etcd call was answered.
  std::string leader_value; ///< The leader key's value (JSON), if known.
  std::string etcd_error;   ///< The last failure, if any.
  uint64_t terms = 0;       ///< Times this coordinator won.
};

/// The serving deadline and status of one coordinator.
class leader_gate {
public:
  /// Whether new requests may be accepted at `now_ns` (a `mark_now()`
  /// value).
  bool serving(int64_t now_ns) const noexcept {
    return now_ns < until_ns_.load(std::memory_order_acquire);
  }

  /// Whether replies may still be written at `now_ns`: after a resignation
  /// the requests already accepted are answered; after a lost lease none
  /// is (the new leader may be answering them).
  bool replying(int64_t now_ns) const noexcept {
    return now_ns < reply_until_ns_.load(std::memory_order_acquire);
  }

  /// Accept and reply until `until_ns` (`mark_now()` clock); `min()`: not
  /// at all.
  void serve_until(int64_t until_ns) noexcept {
    reply_until_ns_.store(until_ns, std::memory_order_release);
    until_ns_.store(until_ns, std::memory_order_release);
  }

  /// Resigned: accept nothing new, answer what was accepted.
  void resign() noexcept {
    until_ns_.store(std::numeric_limits<int64_t>::min(),
                    std::memory_order_release);
    reply_until_ns_.store(std::numeric_limits<int64_t>::max(),
                          std::memory_order_release);
  }

  /// Replaces the status `health` reports.
  void set_status(leader_status st) {
    std::lock_guard<std::mutex> guard{mtx_};
    status_ = std::move(st);
  }

  /// The status `health` reports.
  leader_status status() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return status_;
  }

private:
  std::atomic<int64_t> until_ns_{std::numeric_limits<int64_t>::min()};
  std::atomic<int64_t> reply_until_ns_{std::numeric_limits<int64_t>::min()};
  mutable std::mutex mtx_;
  leader_status status_;
};

} // namespace dine
