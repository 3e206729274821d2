// runtime/leader_election: campaign, renew, fencing and step-down decisions
// on an injected clock.

#include <doctest/doctest.h>

#include "runtime/leader_election.hpp"

using namespace dine;
using namespace std::chrono;
using step = leader_election::step;
using tp = leader_election::time_point;

namespace {

leader_election::options opts() {
  leader_election::options o;
  o.ttl = seconds{3};
  o.poll = milliseconds{200};
  o.margin = milliseconds{300};
  return o;
}

/// Takes `e` from start to leader at `t0`: observe (absent), grant,
/// campaign (won).
void elect(leader_election& e, tp t0) {
  REQUIRE(e.next() == step::observe);
  e.observed(false, false, t0);
  REQUIRE(e.next() == step::grant);
  e.granted(7, 3, t0, t0);
  REQUIRE(e.next() == step::campaign);
  e.campaigned(true, t0);
  REQUIRE(e.leader());
}

} // namespace

TEST_CASE("election: a follower polls, campaigns when the key is absent") {
  tp t0{seconds{100}};
  leader_election e{opts(), t0};
  CHECK_FALSE(e.leader());
  CHECK(e.serving_until() == tp::min());
  CHECK(e.next() == step::observe);
  e.observed(true, false, t0); // someone leads
  CHECK(e.next() == step::observe);
  CHECK(e.when() == t0 + milliseconds{200});
  e.observed(false, false, t0 + milliseconds{200});
  CHECK(e.next() == step::grant);
  CHECK(e.when() == t0 + milliseconds{200}); // at once
  e.granted(7, 3, t0 + milliseconds{200}, t0 + milliseconds{210});
  CHECK(e.lease() == 7);
  CHECK(e.next() == step::campaign);
  e.campaigned(false, t0 + milliseconds{220}); // another won the race
  CHECK_FALSE(e.leader());
  CHECK(e.next() == step::observe);
  // The key disappears again: the lease is still valid, no new grant.
  e.observed(false, false, t0 + milliseconds{500});
  CHECK(e.next() == step::campaign);
  e.campaigned(true, t0 + milliseconds{510});
  CHECK(e.leader());
  CHECK(e.terms() == 1);
  // Serves until the grant was sent + TTL - margin.
  CHECK(e.serving_until() ==
        t0 + milliseconds{200} + seconds{3} - milliseconds{300});
}

TEST_CASE("election: a follower's expired lease is granted anew") {
  tp t0{seconds{100}};
  leader_election e{opts(), t0};
  e.observed(false, false, t0);
  e.granted(7, 3, t0, t0);
  e.campaigned(false, t0);
  // Much later the key is gone; the old lease expired meanwhile.
  e.observed(false, false, t0 + seconds{10});
  CHECK(e.next() == step::grant);
}

TEST_CASE("election: a leader renews every TTL/3 and verifies its key") {
  tp t0{seconds{100}};
  leader_election e{opts(), t0};
  elect(e, t0);
  CHECK(e.next() == step::renew);
  CHECK(e.when() == t0 + seconds{1});
  auto t1 = t0 + seconds{1};
  e.renewed(3, t1, t1 + milliseconds{5});
  CHECK(e.serving_until() == t1 + seconds{3} - milliseconds{300});
  CHECK(e.next() == step::observe);
  e.observed(true, true, t1 + milliseconds{500});
  CHECK(e.leader());
  CHECK(e.next() == step::renew);
}

TEST_CASE("election: fencing - a frozen leader stops at its own deadline") {
  tp t0{seconds{100}};
  leader_election e{opts(), t0};
  elect(e, t0);
  auto until = e.serving_until();
  CHECK(until == t0 + seconds{3} - milliseconds{300});
  // Frozen (SIGSTOP) for 10 s: nothing was reported; the deadline stands,
  // so the gate is closed when the process runs again.
  CHECK(t0 + seconds{10} > until);
  // etcd then says the lease is gone: step down for good.
  e.renewed(0, t0 + seconds{10}, t0 + seconds{10});
  CHECK_FALSE(e.leader());
  CHECK(e.serving_until() == tp::min());
  CHECK(e.step_downs() == 1);
  CHECK(e.lease() == 0);
  CHECK(e.next() == step::observe);
}

TEST_CASE("election: the key held by another or deleted deposes the leader") {
  tp t0{seconds{100}};
  leader_election e{opts(), t0};
  elect(e, t0);
  e.renewed(3, t0 + seconds{1}, t0 + seconds{1});
  e.observed(true, false, t0 + seconds{1}); // not ours
  CHECK_FALSE(e.leader());
  leader_election f{opts(), t0};
  elect(f, t0);
  f.renewed(3, t0 + seconds{1}, t0 + seconds{1});
  f.observed(false, false, t0 + seconds{1}); // deleted
  CHECK_FALSE(f.leader());
}

TEST_CASE("election: etcd down - the leader keeps serving, no one campaigns") {
  tp t0{seconds{100}};
  leader_election e{opts(), t0};
  elect(e, t0);
  auto t = t0 + seconds{1};
  for (int i = 0; i < 20; ++i, t += milliseconds{200}) {
    e.unreachable(t);
    CHECK(e.leader());
    CHECK_FALSE(e.etcd_reachable());
    CHECK(e.serving_until() >= t + seconds{3});
    CHECK(e.next() == step::renew);
  }
  // Back: etcd confirms the lease (it would have expired: TTL 0) → down.
  e.renewed(0, t, t);
  CHECK_FALSE(e.leader());
  CHECK(e.etcd_reachable());
  // A follower cannot campaign without etcd.
  leader_election f{opts(), t0};
  f.unreachable(t0);
  CHECK_FALSE(f.leader());
  CHECK(f.next() == step::observe);
  CHECK(f.serving_until() == tp::min());
}

TEST_CASE("election: resign drops the lease and serves nothing") {
  tp t0{seconds{100}};
  leader_election e{opts(), t0};
  elect(e, t0);
  e.resign();
  CHECK_FALSE(e.leader());
  CHECK(e.lease() == 0);
  CHECK(e.serving_until() == tp::min());
  CHECK(e.step_downs() == 1);
}
