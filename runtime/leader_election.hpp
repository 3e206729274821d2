#pragma once

// leader_election: the decisions of one coordinator campaigning for the
// leadership of its cluster on etcd (docs/design.md, "Coordinator high
// availability"), as plain C++ on an injected clock. The elector actor
// (actors/link/elector.hpp) executes them: it calls etcd, reports each
// outcome here with the time the call was SENT, and publishes
// `serving_until()` to the client port's gate.
//
// The rules:
// - A follower polls the leader key every `poll`. When it is absent, it
//   campaigns: a lease (granted if it has none that is still valid), then a
//   transaction that puts the key only if it does not exist.
// - A leader renews its lease every TTL/3 and, between renewals, checks that
//   the key is still its own.
// - Fencing: a lease renewed by a keepalive SENT at t lives at etcd at least
//   until t + TTL, and no other coordinator can win before it ends. The
//   leader serves only until t + TTL - `margin`: a leader that was frozen
//   (SIGSTOP) past that stops at once when it runs again, and serves again
//   only if etcd confirms its lease.
// - etcd confirms the lease is gone (TTL 0) or the key is not ours: step
//   down. etcd cannot be reached at all: the leader keeps serving
//   (`serving_until` moves to the failure + TTL on each failed call); new
//   leadership cannot form meanwhile. The one case this lets two leaders
//   serve: a leader cut off from every etcd endpoint while a standby still
//   reaches them (docs/design.md states the trade-off).

#include <chrono>
#include <cstdint>

namespace dine {

/// The decisions of a coordinator in the leader election.
class leader_election {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = std::chrono::milliseconds;

  /// The calls the elector makes.
  enum class step {
    grant,    ///< Grant a lease (`ttl` seconds).
    campaign, ///< Create the leader key with the lease if absent.
    renew,    ///< Keep the lease alive.
    observe,  ///< Read the leader key.
  };

  /// Settings of an election.
  struct options {
    std::chrono::seconds ttl{3}; ///< The lease TTL asked for.
    duration poll{200};          ///< A follower's poll interval.
    duration margin{300};        ///< Stops serving this much early.
  };

  explicit leader_election(options opts, time_point now);

  /// The next call.
  step next() const noexcept;

  /// When to make it.
  time_point when() const noexcept { return next_at_; }

  /// `grant` answered: lease `id` of `ttl` seconds, asked at `sent`.
  void granted(int64_t id, int64_t ttl, time_point sent, time_point now);

  /// `campaign` answered: whether the key is now ours.
  void campaigned(bool won, time_point now);

  /// `renew` answered, sent at `sent`: the lease's TTL left (0: etcd no
  /// longer knows it, so the leadership is lost).
  void renewed(int64_t ttl, time_point sent, time_point now);

  /// `observe` answered: whether the leader key exists and whether it holds
  /// our lease.
  void observed(bool present, bool ours, time_point now);

  /// A call failed: no etcd endpoint answered (or answered garbage).
  void unreachable(time_point now);

  /// Gives the leadership up (SIGTERM); the elector revokes the lease.
  void resign() noexcept;

  /// Returns whether this coordinator believes it leads.
  bool leader() const noexcept { return leader_; }

  /// The client port may serve until this time (`time_point::min()`: not).
  time_point serving_until() const noexcept;

  /// Whether the last etcd call was answered.
  bool etcd_reachable() const noexcept { return reachable_; }

  /// The lease held (0: none).
  int64_t lease() const noexcept { return lease_; }

  /// Times this coordinator won the leadership.
  uint64_t terms() const noexcept { return terms_; }

  /// Times it lost it (deposed or resigned).
  uint64_t step_downs() const noexcept { return step_downs_; }

private:
  duration renew_interval() const noexcept;
  void step_down(time_point now);

  options opts_;
  duration ttl_;
  bool leader_ = false;
  bool key_absent_ = false;
  bool verify_next_ = false;
  bool reachable_ = true;
  int64_t lease_ = 0;
  time_point lease_until_;
  time_point unreachable_at_;
  time_point next_at_;
  uint64_t terms_ = 0;
  uint64_t step_downs_ = 0;
};

/// The name of a step, for logs.
const char* to_string(leader_election::step x);

} // namespace dine
