#include "actors/link/elector.hpp"

#include <caf/actor_ostream.hpp>

#include <limits>

#include "messages/errc.hpp"
#include "messages/interfaces.hpp"

namespace dine {

namespace {

using clock = leader_election::clock;
using step = leader_election::step;
using self_ptr = caf::stateful_actor<elector_state>*;

int64_t to_ns(clock::time_point t) {
  if (t == clock::time_point::min())
    return std::numeric_limits<int64_t>::min();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             t.time_since_epoch())
      .count();
}

/// Makes the call the election asks for and reports its outcome.
void run_step(self_ptr self, const elector_options& opts) {
  auto& st = self->state;
  auto& el = *st.election;
  auto& etcd = *st.etcd;
  auto sent = clock::now();
  auto fail = [&](const caf::error& err) {
    st.etcd_error = classify(err).second;
    el.unreachable(clock::now());
  };
  switch (el.next()) {
  case step::grant: {
    auto r = etcd.grant(opts.election.ttl.count());
    if (!r)
      return fail(r.error());
    el.granted(r->first, r->second, sent, clock::now());
    return;
  }
  case step::campaign: {
    auto r = etcd.create(opts.key, opts.value, el.lease());
    if (!r)
      return fail(r.error());
    if (!r->created && r->current)
      st.leader = r->current->value;
    if (r->created)
      st.leader = opts.value;
    el.campaigned(r->created, clock::now());
    return;
  }
  case step::renew: {
    auto r = etcd.keepalive(el.lease());
    if (!r)
      return fail(r.error());
    el.renewed(*r, sent, clock::now());
    return;
  }
  case step::observe: {
    auto r = etcd.get(opts.key);
    if (!r)
      return fail(r.error());
    auto present = r->has_value();
    auto ours = present && el.lease() != 0 && (*r)->lease == el.lease() &&
                (*r)->value == opts.value;
    st.leader = present ? (*r)->value : std::string{};
    el.observed(present, ours, clock::now());
    return;
  }
  }
}

/// Publishes the outcome to the gate and logs changes.
void publish(self_ptr self, const elector_options& opts,
             const std::shared_ptr<leader_gate>& gate,
             const caf::actor& acceptor) {
  auto& st = self->state;
  auto& el = *st.election;
  gate->serve_until(to_ns(el.serving_until()));
  leader_status ls;
  ls.leader = el.leader();
  ls.etcd_ok = el.etcd_reachable();
  ls.leader_value = st.leader;
  ls.etcd_error = el.etcd_reachable() ? std::string{} : st.etcd_error;
  ls.terms = el.terms();
  gate->set_status(std::move(ls));
  if (el.etcd_reachable() != st.reachable) {
    st.reachable = el.etcd_reachable();
    if (!st.reachable)
      caf::aout(self) << "dine-node: etcd unreachable (" << st.etcd_error << ")"
                      << (el.leader()
                              ? "; still leading cluster " + opts.cluster +
                                    " with what it has, no new "
                                    "leader can form"
                              : std::string{"; cannot campaign"})
                      << std::endl;
    else
      caf::aout(self) << "dine-node: etcd reachable again via "
                      << st.etcd->current() << std::endl;
  }
  if (el.leader() != st.led) {
    st.led = el.leader();
    if (st.led) {
      caf::aout(self) << "dine-node: leading cluster " << opts.cluster
                      << " (lease " << el.lease() << ", term " << el.terms()
                      << ")" << std::endl;
    } else {
      caf::aout(self) << "dine-node: lost the leadership of cluster "
                      << opts.cluster
                      << ": stopped serving clients (lease gone)" << std::endl;
      if (acceptor)
        self->send(acceptor, fence_atom::value);
    }
  }
}

} // namespace

caf::behavior elector(caf::stateful_actor<elector_state>* self,
                      elector_options opts, std::shared_ptr<leader_gate> gate,
                      caf::actor acceptor) {
  auto& st = self->state;
  st.etcd = std::make_unique<etcd_client>(opts.etcd, opts.timeout);
  st.election = std::make_unique<leader_election>(opts.election, clock::now());
  self->send(self, tick_atom::value);
  caf::aout(self) << "dine-node: standby of cluster " << opts.cluster
                  << ", campaigning on etcd " << st.etcd->current()
                  << std::endl;
  return {
      [=](tick_atom) {
        auto& st = self->state;
        if (st.resigned)
          return;
        run_step(self, opts);
        publish(self, opts, gate, acceptor);
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            st.election->when() - clock::now());
        self->delayed_send(self, std::max(wait, std::chrono::milliseconds{1}),
                           tick_atom::value);
      },
      [=](drain_atom) {
        auto& st = self->state;
        if (st.resigned)
          return true;
        st.resigned = true;
        auto lease = st.election->lease();
        auto led = st.election->leader();
        st.election->resign();
        gate->resign(); // in-flight requests still get their replies
        if (lease != 0) {
          auto err = st.etcd->revoke(lease);
          if (led)
            caf::aout(self) << "dine-node: resigned the leadership of cluster "
                            << opts.cluster
                            << (err ? " (revoking the lease failed: " +
                                          classify(err).second + ")"
                                    : std::string{" (lease revoked)"})
                            << std::endl;
        }
        return true;
      },
  };
}

} // namespace dine
