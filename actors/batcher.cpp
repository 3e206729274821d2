#include "actors/batcher.hpp"

#include "actors/batcher_state.hpp"
#include "messages/errc.hpp"

namespace dine {

namespace {

using self_ptr = batcher_actor::stateful_pointer<batcher_state>;
using clock = batcher_state::clock;
using entry = batcher_state::entry;

uint32_t micros(clock::duration d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX));
}

client_reply error_reply(uint64_t rid, errc code, std::string msg) {
  client_reply r;
  r.id = rid;
  r.code = static_cast<uint8_t>(code);
  r.message = std::move(msg);
  return r;
}

batcher_state::slot* find_slot(batcher_state& st, const caf::actor_addr& a) {
  for (auto& s : st.pool)
    if (s.hdl.address() == a)
      return &s;
  return nullptr;
}

/// Answers `es` with `code` (no worker can take them, or they expired).
void fail_entries(self_ptr self, const coordinator_actor& coord,
                  std::vector<entry>&& es, errc code, const std::string& msg) {
  if (es.empty())
    return;
  std::vector<client_reply> out;
  out.reserve(es.size());
  for (auto& e : es)
    out.push_back(error_reply(e.req.id, code, msg));
  self->send(coord, std::move(out));
}

/// Forms and sends batches while the queue says so; arms the flush timer.
void try_flush(self_ptr self, const coordinator_actor& coord) {
  auto& st = self->state;
  auto& q = *st.queue;
  while (!q.empty()) {
    if (st.pool.empty()) {
      fail_entries(self, coord, q.drain(), errc::unavailable,
                   "no healthy worker serves model `" + st.model.name + "`");
      return;
    }
    std::vector<worker_view> views;
    views.reserve(st.pool.size());
    for (auto& s : st.pool)
      views.push_back({s.stats.outstanding, s.capacity, true});
    auto idx = st.strategy->pick(views);
    auto now = clock::now();
    auto n = q.ready(now, idx != balancer::none);
    if (n == 0) {
      auto wake = q.next_wakeup();
      if (idx != balancer::none && wake < st.timer_at) {
        st.timer_at = wake;
        self->delayed_send(self, std::max(wake - now, clock::duration{0}),
                           tick_atom::value);
      }
      return;
    }
    auto& s = st.pool[idx];
    batch b;
    b.bid = st.next_bid++;
    b.model = st.model.name;
    b.version = st.model.version;
    batcher_state::in_flight f;
    f.worker = s.hdl.address();
    f.sent = now;
    f.items = q.take(n);
    b.items.reserve(f.items.size());
    for (auto& e : f.items) {
      ++e.attempts;
      // A copy: the original stays here for a retry on another worker.
      b.items.push_back(batch_item{e.req.id, e.req.inputs});
    }
    ++s.stats.outstanding;
    st.batches.emplace(b.bid, std::move(f));
    self->send(s.hdl, std::move(b));
  }
}

/// Puts the requests of a lost batch back in front of the queue, or fails
/// those out of retries.
void requeue(self_ptr self, const coordinator_actor& coord,
             batcher_state::in_flight& f, const std::string& why) {
  auto& st = self->state;
  std::vector<entry> again;
  std::vector<client_reply> failed;
  for (auto& e : f.items) {
    if (e.attempts > st.max_retries) {
      failed.push_back(error_reply(
          e.req.id, errc::worker_failed,
          why + " (after " + std::to_string(e.attempts) + " attempts)"));
    } else {
      ++st.stats.retries;
      again.push_back(std::move(e));
    }
  }
  st.queue->push_front(std::move(again));
  if (!failed.empty())
    self->send(coord, std::move(failed));
}

/// Handles the loss of worker `addr`: removes it, retries its batches.
void drop_worker(self_ptr self, const coordinator_actor& coord,
                 const caf::actor_addr& addr, const std::string& why) {
  auto& st = self->state;
  for (auto i = st.pool.begin(); i != st.pool.end(); ++i)
    if (i->hdl.address() == addr) {
      st.pool.erase(i);
      break;
    }
  for (auto i = st.batches.begin(); i != st.batches.end();) {
    if (i->second.worker == addr) {
      requeue(self, coord, i->second, why);
      i = st.batches.erase(i);
    } else {
      ++i;
    }
  }
}

/// Splits a worker's result into one reply per request.
std::vector<client_reply> split_result(batcher_state::in_flight& f,
                                       batch_result& res) {
  auto n = f.items.size();
  std::vector<client_reply> out;
  out.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    client_reply r;
    r.id = f.items[k].req.id;
    if (k < res.items.size() && res.items[k].rid == r.id) {
      r.code = res.items[k].code;
      r.message = std::move(res.items[k].message);
      r.outputs = std::move(res.items[k].outputs);
    } else {
      r.code = static_cast<uint8_t>(errc::internal);
      r.message = "worker returned a malformed batch result";
    }
    r.worker = res.worker;
    r.batch = static_cast<uint32_t>(n);
    r.times.queue_us = micros(f.sent - f.items[k].enqueued);
    r.times.infer_us = res.infer_us;
    out.push_back(std::move(r));
  }
  return out;
}

} // namespace

batcher_actor::behavior_type batcher(self_ptr self, coordinator_actor coord,
                                     batcher_options opts) {
  auto& st = self->state;
  st.model = opts.model;
  st.max_retries = opts.max_retries;
  st.batch_timeout = opts.batch_timeout;
  batch_limits limits;
  limits.max_batch_size = opts.model.max_batch_size;
  limits.max_delay = opts.model.max_delay;
  limits.preferred_sizes = opts.model.preferred_sizes;
  limits.max_queue = opts.model.max_queue;
  limits.batchable = opts.model.batchable;
  st.queue = std::make_unique<batch_queue>(std::move(limits));
  st.strategy = std::make_unique<round_robin>();
  st.stats.model = opts.model.name;
  st.stats.size_histogram.resize(st.queue->limits().max_batch_size, 0);
  self->set_down_handler([=](caf::down_msg& dm) {
    drop_worker(self, coord, dm.source,
                "worker lost: " + caf::to_string(dm.reason));
    try_flush(self, coord);
  });
  // Sweep: queued requests past their deadline, and batches whose worker
  // neither answered nor went down within the batch timeout.
  auto sweep_every = std::chrono::milliseconds{10};
  self->delayed_send(self, sweep_every, tick_atom::value, uint64_t{0});
  return {
      [=](std::vector<client_request>& reqs) {
        auto& st = self->state;
        auto now = clock::now();
        std::vector<client_reply> refused;
        for (auto& r : reqs) {
          entry e;
          e.enqueued = now;
          e.deadline = now + std::chrono::milliseconds{r.deadline_ms};
          e.req = std::move(r);
          if (!st.queue->push(e))
            refused.push_back(
                error_reply(e.req.id, errc::overloaded,
                            "queue of model `" + st.model.name + "` is full (" +
                                std::to_string(st.queue->limits().max_queue) +
                                " requests)"));
        }
        if (!refused.empty())
          self->send(coord, std::move(refused));
        try_flush(self, coord);
      },
      [=](worker_atom, worker_actor& w, std::string& name, uint32_t capacity) {
        auto& st = self->state;
        if (!w || find_slot(st, w.address()) != nullptr)
          return;
        self->monitor(w);
        batcher_state::slot s;
        s.hdl = std::move(w);
        s.name = name;
        s.stats.name = std::move(name);
        s.stats.models.push_back(st.model.name);
        s.capacity = std::max(capacity, uint32_t{1});
        st.pool.push_back(std::move(s));
        try_flush(self, coord);
      },
      [=](batch_result& res) {
        auto& st = self->state;
        auto i = st.batches.find(res.bid);
        if (i == st.batches.end())
          return; // abandoned earlier (timeout): already retried
        auto f = std::move(i->second);
        st.batches.erase(i);
        auto n = f.items.size();
        if (res.code != 0) {
          // The whole batch failed on that worker: run it elsewhere.
          if (auto s = find_slot(st, f.worker)) {
            --s->stats.outstanding;
            ++s->stats.failures;
          }
          auto addr = f.worker;
          requeue(self, coord, f, res.message);
          if (res.code == static_cast<uint8_t>(errc::unavailable))
            drop_worker(self, coord, addr, res.message);
          try_flush(self, coord);
          return;
        }
        if (auto s = find_slot(st, f.worker)) {
          --s->stats.outstanding;
          ++s->stats.batches;
          s->stats.items += n;
        }
        ++st.stats.batches;
        st.stats.items += n;
        if (n > 0 && n <= st.stats.size_histogram.size())
          ++st.stats.size_histogram[n - 1];
        self->send(coord, split_result(f, res));
        try_flush(self, coord);
      },
      [=](tick_atom) {
        auto& st = self->state;
        if (clock::now() >= st.timer_at)
          st.timer_at = clock::time_point::max();
        try_flush(self, coord);
      },
      [=](tick_atom, uint64_t) {
        auto& st = self->state;
        auto now = clock::now();
        for (auto i = st.batches.begin(); i != st.batches.end();) {
          if (now - i->second.sent > st.batch_timeout) {
            if (auto s = find_slot(st, i->second.worker)) {
              --s->stats.outstanding;
              ++s->stats.failures;
            }
            requeue(self, coord, i->second, "batch timed out on its worker");
            i = st.batches.erase(i);
          } else {
            ++i;
          }
        }
        fail_entries(
            self, coord, st.queue->expire(now), errc::deadline_exceeded,
            "deadline passed while queued for model `" + st.model.name + "`");
        try_flush(self, coord);
        self->delayed_send(self, sweep_every, tick_atom::value, uint64_t{0});
      },
      [=](drain_atom, worker_actor& w) {
        // No new batches for `w`; its batches in flight still complete.
        auto& pool = self->state.pool;
        for (auto i = pool.begin(); i != pool.end(); ++i)
          if (i->hdl == w) {
            pool.erase(i);
            break;
          }
        try_flush(self, coord);
      },
      [=](stats_atom) {
        auto& st = self->state;
        auto result = st.stats;
        for (auto& s : st.pool)
          result.workers.push_back(s.stats);
        return result;
      },
  };
}

} // namespace dine
