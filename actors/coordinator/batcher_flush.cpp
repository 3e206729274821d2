// The flushing half of the batcher (see batcher.hpp): forming batches from
// the queue and sending them to the workers the strategy picks.

#include <algorithm>

#include "actors/coordinator/batcher.hpp"
#include "actors/coordinator/batcher_state.hpp"
#include "runtime/key_batching.hpp"

namespace dine {

namespace {

using self_ptr = batcher_self;
using clock = batcher_state::clock;
using entry = batcher_state::entry;

/// Hands every queued request back to the router: this pool is empty.
void reroute_queue(self_ptr self) {
  auto& st = self->state;
  auto es = st.queue->drain();
  if (es.empty())
    return;
  auto now = clock::now();
  std::vector<client_request> reqs;
  reqs.reserve(es.size());
  for (auto& e : es) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(e.deadline - now);
    e.req.deadline_ms =
        static_cast<uint32_t>(std::clamp<int64_t>(left.count(), 1, UINT32_MAX));
    reqs.push_back(std::move(e.req));
  }
  self->send(st.router, reroute_atom::value, st.joins, std::move(reqs));
}

/// What the balancer sees: ejected workers are unhealthy, probing ones get
/// one batch at a time.
std::vector<worker_view> make_views(batcher_state& st, clock::time_point now) {
  std::vector<worker_view> views;
  views.reserve(st.pool.size());
  // One hash lookup per worker and flush adds up in a pool of hundreds
  // (docs/benchmarks.md, "256 workers"): skip them while nobody is out.
  bool any_out = st.outliers->any_out();
  for (auto& s : st.pool) {
    worker_view v;
    v.outstanding = s.stats.outstanding;
    v.capacity = s.capacity;
    v.id = s.id;
    v.weight = s.capacity;
    if (!any_out) {
      views.push_back(v);
      continue;
    }
    switch (st.outliers->state(s.id, now)) {
    case outlier_state::ejected:
      v.healthy = false;
      break;
    case outlier_state::probing:
      v.capacity = 1;
      break;
    default:
      break;
    }
    views.push_back(v);
  }
  return views;
}

void send_batch(self_ptr self, size_t idx, std::vector<entry>&& items,
                clock::time_point now) {
  auto& st = self->state;
  if (!st.cancelled.empty()) {
    items.erase(std::remove_if(items.begin(), items.end(),
                               [&](const entry& e) {
                                 return st.cancelled.erase(e.req.id) > 0;
                               }),
                items.end());
    if (items.empty())
      return;
  }
  auto& s = st.pool[idx];
  batch b;
  b.bid = st.next_bid++;
  b.model = st.model.name;
  b.version = st.version;
  batcher_state::in_flight f;
  f.worker = s.hdl.address();
  f.worker_id = s.id;
  f.sent = now;
  f.items = std::move(items);
  f.answered.assign(f.items.size(), false);
  f.streamed.assign(f.items.size(), false);
  b.items.reserve(f.items.size());
  for (auto& e : f.items) {
    if (e.attempts == 0)
      st.retries.on_first_attempt();
    ++e.attempts;
    // A copy: the original stays here for a retry on another worker.
    // A generative model gives up waiting for KV blocks when 10 % of what
    // is left of the deadline (at least 100 ms) remains: the client learns
    // `overloaded`, not `deadline_exceeded`.
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(e.deadline - now);
    left -= std::max(left / 10, std::chrono::milliseconds{100});
    b.items.push_back(batch_item{
        e.req.id, e.req.inputs,
        static_cast<uint32_t>(std::clamp<int64_t>(left.count(), 0, UINT32_MAX)),
        e.req.stream});
  }
  ++s.stats.outstanding;
  st.batches.emplace(b.bid, std::move(f));
  self->send(s.hdl, std::move(b));
}

void arm_timer(self_ptr self, clock::time_point wake, clock::time_point now) {
  auto& st = self->state;
  if (wake >= st.timer_at || wake == clock::time_point::max())
    return;
  st.timer_at = wake;
  self->delayed_send(self, std::max(wake - now, clock::duration{0}),
                     tick_atom::value);
}

/// Key-based strategies: each request goes to its key's worker; batches
/// form per worker and wait while that worker is busy.
void flush_by_key(self_ptr self, std::vector<worker_view>& views,
                  clock::time_point now) {
  auto& st = self->state;
  auto& q = *st.queue;
  size_t max_batch = q.limits().max_batch_size;
  while (!q.empty()) {
    size_t free_slots = 0;
    for (auto& v : views)
      if (v.has_slot())
        free_slots += v.capacity - v.outstanding;
    if (free_slots == 0)
      return; // a result frees a slot and flushes again
    auto n = q.ready(now, true);
    if (n == 0) {
      arm_timer(self, q.next_wakeup(), now);
      return;
    }
    auto taken =
        q.take(std::max(n, std::min(q.size(), free_slots * max_batch)));
    std::vector<uint64_t> keys;
    std::vector<uint64_t> avoid;
    keys.reserve(taken.size());
    avoid.reserve(taken.size());
    for (auto& e : taken) {
      keys.push_back(e.req.key_hash);
      avoid.push_back(e.avoid);
    }
    auto plan = plan_key_batches(*st.strategy, views, keys, max_batch, avoid);
    for (auto& pb : plan.batches) {
      std::vector<entry> items;
      items.reserve(pb.items.size());
      for (auto i : pb.items)
        items.push_back(std::move(taken[i]));
      send_batch(self, pb.worker, std::move(items), now);
      ++views[pb.worker].outstanding;
    }
    std::vector<entry> rest;
    rest.reserve(plan.leftover.size());
    for (auto i : plan.leftover)
      rest.push_back(std::move(taken[i]));
    q.push_front(std::move(rest));
    if (plan.batches.empty())
      return; // every request waits for its busy worker
  }
}

} // namespace

void try_flush(self_ptr self) {
  auto& st = self->state;
  auto& q = *st.queue;
  if (q.empty())
    return;
  if (st.pool.empty()) {
    reroute_queue(self);
    return;
  }
  auto now = clock::now();
  auto views = make_views(st, now);
  if (st.strategy->uses_key()) {
    flush_by_key(self, views, now);
    return;
  }
  // Counted once, then kept up to date: recounting per batch is O(pool).
  auto eligible = count_eligible(views);
  while (!q.empty()) {
    bool slot_free = eligible > 0;
    auto n = q.ready(now, slot_free);
    if (n == 0) {
      if (slot_free)
        arm_timer(self, q.next_wakeup(), now);
      return;
    }
    auto idx = st.strategy->pick(views);
    if (idx == balancer::none)
      return;
    send_batch(self, idx, q.take(n), now);
    ++views[idx].outstanding;
    if (eligible > 0 && !views[idx].has_slot())
      --eligible;
  }
}

} // namespace dine
