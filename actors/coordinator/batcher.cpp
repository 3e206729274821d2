#include "actors/coordinator/batcher.hpp"

#include <algorithm>

#include <caf/actor_ostream.hpp>

#include "actors/coordinator/batcher_state.hpp"
#include "messages/errc.hpp"
#include "runtime/backends/generator.hpp"
#include "runtime/error_reply.hpp"
#include "runtime/hash_ring.hpp"

namespace dine {

namespace {

using self_ptr = batcher_self;
using clock = batcher_state::clock;
using entry = batcher_state::entry;

/// Batches (= sequences) in flight per worker of a generative model.
constexpr uint32_t generative_capacity = 64;

std::string pool_name(const batcher_state& st) {
  auto out = "`" + st.model.name + "` v" + std::to_string(st.version);
  if (st.model.routing.shards > 1)
    out += " shard " + std::to_string(st.shard);
  return out;
}

/// Answers `es` with `code` (they expired, or no retry is left).
void fail_entries(self_ptr self, std::vector<entry>&& es, errc code,
                  const std::string& msg) {
  if (es.empty())
    return;
  std::vector<client_reply> out;
  out.reserve(es.size());
  for (auto& e : es)
    out.push_back(error_reply(e.req.id, code, msg));
  self->send(self->state.coord, std::move(out));
}

/// Puts the unanswered requests of a lost batch back in front of the
/// queue, or fails those the retry policy gives up on.
void requeue(self_ptr self, batcher_state::in_flight& f,
             const std::string& why) {
  auto& st = self->state;
  std::vector<entry> again;
  std::vector<client_reply> failed;
  for (size_t k = 0; k < f.items.size(); ++k) {
    auto& e = f.items[k];
    if (f.answered[k])
      continue;
    auto verdict = st.retries.decide(e.attempts, f.streamed[k]);
    if (verdict != retry_verdict::retry) {
      failed.push_back(
          error_reply(e.req.id, retry_policy::code(verdict),
                      retry_policy::message(verdict, why, e.attempts)));
      continue;
    }
    ++st.stats.retries;
    e.avoid = f.worker_id; // a key-based strategy tries another worker
    again.push_back(std::move(e));
  }
  st.queue->push_front(std::move(again));
  if (!failed.empty())
    self->send(st.coord, std::move(failed));
}

/// Feeds the outcome of a batch to the strategy and the outlier detector.
void record(self_ptr self, batcher_state::slot& s, clock::duration latency,
            bool ok, clock::time_point now) {
  auto& st = self->state;
  st.strategy->observe(s.id, latency, ok);
  if (ok) {
    st.outliers->on_success(s.id, now);
    s.latency.update(
        std::chrono::duration<double, std::micro>{latency}.count());
    return;
  }
  ++s.stats.failures;
  if (!st.outliers->on_failure(s.id, now))
    return;
  ++s.stats.ejections;
  auto until = *st.outliers->ejected_until(s.id);
  caf::aout(self) << "batcher " << pool_name(st) << ": worker " << s.stats.name
                  << " ejected for "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(
                         until - now)
                         .count()
                  << " ms after repeated failures" << std::endl;
  // Look again when it may be probed.
  self->delayed_send(self, until - now, tick_atom::value);
}

/// Removes worker `addr` from the pool; with `retry` its batches in flight
/// run elsewhere, else they may still complete (drain).
void remove_worker(self_ptr self, const caf::actor_addr& addr, bool retry,
                   const std::string& why) {
  auto& st = self->state;
  for (auto i = st.pool.begin(); i != st.pool.end(); ++i)
    if (i->hdl.address() == addr) {
      st.strategy->forget(i->id);
      st.outliers->remove(i->id, clock::now());
      st.pool.erase(i);
      break;
    }
  if (!retry)
    return;
  for (auto i = st.batches.begin(); i != st.batches.end();) {
    if (i->second.worker == addr) {
      requeue(self, i->second, why);
      i = st.batches.erase(i);
    } else {
      ++i;
    }
  }
}

/// Splits a worker's result into one reply per unanswered request.
std::vector<client_reply> split_result(batcher_state::in_flight& f,
                                       batch_result& res, uint32_t version,
                                       clock::time_point now) {
  auto ns = [](clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               t.time_since_epoch())
        .count();
  };
  auto sent = ns(f.sent);
  auto received = ns(now);
  auto n = f.items.size();
  std::vector<client_reply> out;
  out.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    if (f.answered[k])
      continue;
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
    r.version = version;
    r.marks.sent = sent; // the connection derives the stages from these
    r.marks.received = received;
    r.times.infer_us = res.infer_us;
    out.push_back(std::move(r));
  }
  return out;
}

void on_result(self_ptr self, batch_result& res) {
  auto& st = self->state;
  auto i = st.batches.find(res.bid);
  if (i == st.batches.end())
    return; // abandoned earlier (timeout): already retried
  auto f = std::move(i->second);
  st.batches.erase(i);
  auto now = clock::now();
  auto s = find_slot(st, f.worker);
  if (s != nullptr)
    --s->stats.outstanding;
  if (res.code != 0) {
    // The whole batch failed on that worker: run it elsewhere.
    if (s != nullptr)
      record(self, *s, now - f.sent, false, now);
    requeue(self, f, res.message);
    if (res.code == static_cast<uint8_t>(errc::unavailable))
      remove_worker(self, f.worker, true, res.message);
    try_flush(self);
    return;
  }
  auto n = f.items.size();
  if (s != nullptr && res.kv_blocks_total > 0) {
    s->stats.kv_blocks_total = res.kv_blocks_total;
    s->stats.kv_blocks_used = res.kv_blocks_used;
    s->stats.seqs_running = res.seqs_running;
    s->stats.seqs_waiting = res.seqs_waiting;
  }
  if (s != nullptr) {
    record(self, *s, now - f.sent, true, now);
    ++s->stats.batches;
    s->stats.items += n;
  }
  ++st.stats.batches;
  st.stats.items += n;
  if (n > 0 && n <= st.stats.size_histogram.size())
    ++st.stats.size_histogram[n - 1];
  auto replies = split_result(f, res, st.version, now);
  if (!replies.empty())
    self->send(st.coord, std::move(replies));
  try_flush(self);
}

/// Every 10 ms: batches whose worker neither answered nor went down within
/// the batch timeout, and requests (queued or in flight) past their
/// deadline.
void sweep(self_ptr self) {
  auto& st = self->state;
  auto now = clock::now();
  st.retries.tick(now);
  std::vector<client_reply> expired;
  for (auto i = st.batches.begin(); i != st.batches.end();) {
    auto& f = i->second;
    for (size_t k = 0; k < f.items.size(); ++k)
      if (!f.answered[k] && f.items[k].deadline <= now) {
        f.answered[k] = true;
        if (st.generative) // free its sequence at the next step
          if (auto s = find_slot(st, f.worker))
            self->send(s->hdl, cancel_atom::value, st.model.name,
                       f.items[k].req.id);
        expired.push_back(
            error_reply(f.items[k].req.id, errc::deadline_exceeded,
                        "deadline passed while running on a worker of model `" +
                            st.model.name + "`"));
      }
    if (now - f.sent > st.batch_timeout) {
      if (auto s = find_slot(st, f.worker)) {
        --s->stats.outstanding;
        record(self, *s, now - f.sent, false, now);
      }
      requeue(self, f, "batch timed out on its worker");
      i = st.batches.erase(i);
    } else {
      ++i;
    }
  }
  if (!expired.empty())
    self->send(st.coord, std::move(expired));
  for (auto i = st.cancelled.begin(); i != st.cancelled.end();)
    if (now - i->second > std::chrono::minutes{1})
      i = st.cancelled.erase(i);
    else
      ++i;
  fail_entries(self, st.queue->expire(now), errc::deadline_exceeded,
               "deadline passed while queued for model `" + st.model.name +
                   "`");
  try_flush(self);
}

worker_stats snapshot(batcher_state& st, batcher_state::slot& s,
                      clock::time_point now) {
  auto ws = s.stats;
  ws.latency_us = static_cast<uint64_t>(s.latency.value());
  ws.ejected = st.outliers->is_ejected(s.id, now);
  ws.outlier = static_cast<uint8_t>(st.outliers->state(s.id, now));
  return ws;
}

} // namespace

batcher_state::slot* find_slot(batcher_state& st, const caf::actor_addr& a) {
  for (auto& s : st.pool)
    if (s.hdl.address() == a)
      return &s;
  return nullptr;
}

batcher_actor::behavior_type batcher(self_ptr self, coordinator_actor coord,
                                     router_actor router,
                                     batcher_options opts) {
  auto& st = self->state;
  st.coord = std::move(coord);
  st.router = std::move(router);
  st.model = opts.model;
  st.version = opts.version;
  st.shard = opts.shard;
  st.retries = retry_policy{opts.max_retries};
  st.batch_timeout = opts.batch_timeout;
  st.generative = is_generative(opts.model.backend);
  batch_limits limits;
  limits.max_batch_size = opts.model.max_batch_size;
  limits.max_delay = opts.model.max_delay;
  limits.preferred_sizes = opts.model.preferred_sizes;
  limits.max_queue = opts.model.max_queue;
  // A generative model batches in its session, step by step: each batch
  // is one sequence, so a short one never waits for a long neighbour.
  limits.batchable = opts.model.batchable && !st.generative;
  st.queue = std::make_unique<batch_queue>(std::move(limits));
  auto strategy = make_balancer(opts.strategy);
  st.strategy = strategy ? std::move(*strategy)
                         : std::make_unique<round_robin>(); // validated
  st.outliers = std::make_unique<outlier_detector>(opts.outlier);
  st.stats.model = opts.model.name;
  st.stats.version = opts.version;
  st.stats.shard = opts.shard;
  st.stats.strategy = st.strategy->name();
  st.stats.size_histogram.resize(st.queue->limits().max_batch_size, 0);
  self->set_down_handler([=](caf::down_msg& dm) {
    remove_worker(self, dm.source, true,
                  "worker lost: " + caf::to_string(dm.reason));
    try_flush(self);
  });
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
          self->send(st.coord, std::move(refused));
        try_flush(self);
      },
      [=](worker_atom, worker_actor& w, std::string& name, uint32_t capacity) {
        auto& st = self->state;
        ++st.joins;
        if (!w || find_slot(st, w.address()) != nullptr)
          return;
        self->monitor(w);
        batcher_state::slot s;
        s.hdl = std::move(w);
        s.id = hash_key(name);
        // Ids must be distinct in a pool; two workers sharing a name get
        // distinct (still stable) ids.
        auto taken = [&](uint64_t id) {
          return std::any_of(st.pool.begin(), st.pool.end(),
                             [&](auto& x) { return x.id == id; });
        };
        for (uint64_t salt = 1; taken(s.id); ++salt)
          s.id = hash_key(name + "#" + std::to_string(salt));
        s.stats.name = std::move(name);
        s.stats.models.push_back(st.model.name);
        s.capacity = std::max(capacity, uint32_t{1});
        // A generative model's batches are single sequences that its
        // session batches step by step: let many run at once; its KV pool
        // queues what does not fit (docs/design.md, "Streaming").
        if (st.generative)
          s.capacity = std::max(s.capacity, generative_capacity);
        st.outliers->add(s.id);
        st.pool.push_back(std::move(s));
        try_flush(self);
      },
      [=](batch_result& res) { on_result(self, res); },
      [=](std::vector<stream_chunk>& chunks) { forward_chunks(self, chunks); },
      [=](cancel_atom, uint64_t rid) { cancel_request(self, rid); },
      [=](tick_atom) {
        auto& st = self->state;
        if (clock::now() >= st.timer_at)
          st.timer_at = clock::time_point::max();
        try_flush(self);
      },
      [=](tick_atom, uint64_t) {
        sweep(self);
        self->delayed_send(self, sweep_every, tick_atom::value, uint64_t{0});
      },
      [=](drain_atom, worker_actor& w) {
        // No new batches for `w`; its batches in flight still complete.
        remove_worker(self, w.address(), false, {});
        try_flush(self);
      },
      [=](lost_atom, worker_actor& w, std::string& why) {
        remove_worker(self, w.address(), true, why);
        try_flush(self);
      },
      [=](stats_atom) {
        auto& st = self->state;
        auto now = clock::now();
        auto result = st.stats;
        result.queued = st.queue->size();
        for (auto& s : st.pool)
          result.workers.push_back(snapshot(st, s, now));
        return result;
      },
  };
}

} // namespace dine
