#include "runtime/leader_election.hpp"

#include <algorithm>

namespace dine {

leader_election::leader_election(options opts, time_point now)
    : opts_(opts), ttl_(opts.ttl), lease_until_(time_point::min()),
      unreachable_at_(time_point::min()), next_at_(now) {
  // nop
}

leader_election::step leader_election::next() const noexcept {
  if (leader_)
    return verify_next_ ? step::observe : step::renew;
  if (!key_absent_)
    return step::observe;
  // Campaign only with a lease that outlives the campaign comfortably.
  if (lease_ == 0 || next_at_ + opts_.margin >= lease_until_)
    return step::grant;
  return step::campaign;
}

leader_election::duration leader_election::renew_interval() const noexcept {
  return std::max(duration{50}, ttl_ / 3);
}

void leader_election::granted(int64_t id, int64_t ttl, time_point sent,
                              time_point now) {
  reachable_ = true;
  lease_ = id;
  ttl_ = std::chrono::seconds{ttl};
  lease_until_ = sent + ttl_;
  next_at_ = now; // campaign at once
}

void leader_election::campaigned(bool won, time_point now) {
  reachable_ = true;
  key_absent_ = false;
  if (!won) {
    next_at_ = now + opts_.poll;
    return;
  }
  leader_ = true;
  verify_next_ = false;
  ++terms_;
  next_at_ = now + renew_interval();
}

void leader_election::renewed(int64_t ttl, time_point sent, time_point now) {
  reachable_ = true;
  if (ttl <= 0) {
    step_down(now);
    return;
  }
  lease_until_ = std::max(lease_until_, sent + std::chrono::seconds{ttl});
  if (leader_) {
    verify_next_ = true; // check the key before the next renewal
    next_at_ = now + renew_interval() / 2;
  } else {
    next_at_ = now + opts_.poll;
  }
}

void leader_election::observed(bool present, bool ours, time_point now) {
  reachable_ = true;
  if (leader_) {
    verify_next_ = false;
    if (!present || !ours) {
      step_down(now);
      return;
    }
    next_at_ = now + renew_interval() / 2;
    return;
  }
  key_absent_ = !present;
  next_at_ = present ? now + opts_.poll : now;
}

void leader_election::unreachable(time_point now) {
  reachable_ = false;
  unreachable_at_ = now;
  // A leader retries soon: its lease may still be saved. A follower cannot
  // campaign without etcd: it keeps polling.
  next_at_ =
      now + (leader_ ? std::min(opts_.poll, renew_interval()) : opts_.poll);
}

void leader_election::resign() noexcept {
  if (leader_)
    ++step_downs_;
  leader_ = false;
  key_absent_ = false;
  lease_ = 0;
  lease_until_ = time_point::min();
}

void leader_election::step_down(time_point now) {
  if (leader_)
    ++step_downs_;
  leader_ = false;
  key_absent_ = false;
  verify_next_ = false;
  lease_ = 0;
  lease_until_ = time_point::min();
  next_at_ = now + opts_.poll;
}

leader_election::time_point leader_election::serving_until() const noexcept {
  if (!leader_)
    return time_point::min();
  auto confirmed = lease_until_ - opts_.margin;
  if (reachable_)
    return confirmed;
  // etcd is down: keep serving while the elector keeps trying.
  return std::max(confirmed, unreachable_at_ + ttl_);
}

const char* to_string(leader_election::step x) {
  switch (x) {
  case leader_election::step::grant:
    return "grant";
  case leader_election::step::campaign:
    return "campaign";
  case leader_election::step::renew:
    return "renew";
  case leader_election::step::observe:
    return "observe";
  }
  return "?";
}

} // namespace dine
