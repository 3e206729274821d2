#include "actors/coordinator/coordinator.hpp"

#include "actors/coordinator/coordinator_reply.hpp"

#include <memory>

#include "messages/errc.hpp"
#include "runtime/cache_key.hpp"
#include "runtime/error_reply.hpp"
#include "runtime/stage_times.hpp"
#include "runtime/stream_outputs.hpp"

namespace dine {

using namespace coordinator_detail;

namespace {

/// How long a lookup may wait for the cache before it counts as a miss.
constexpr auto cache_timeout = std::chrono::milliseconds{100};

/// Sends requests to the router (misses, uncached, re-dispatched leaders);
/// a model with a preproc pool stage gets its request there first.
void route(self_ptr self, std::vector<client_request>& reqs) {
  auto& stages = self->state.stages;
  if (stages.active())
    for (auto& r : reqs)
      stages.enter(r);
  if (!reqs.empty())
    self->send(self->state.router, std::move(reqs));
  reqs = {};
}

/// Handles the answer to a lookup: hits are answered, misses routed.
void on_hits(self_ptr self, coordinator_state::lookup&& lk,
             const cache_hits* hits) {
  auto& st = self->state;
  auto now = clock::now();
  auto mark = mark_now();
  reply_sink sink;
  std::vector<client_request> misses;
  for (size_t i = 0; i < lk.reqs.size(); ++i) {
    auto& req = lk.reqs[i];
    if (auto e = st.inflight.find(req.id))
      e->marks.cache_end = mark;
    if (hits && i < hits->found.size() && hits->found[i]) {
      client_reply r;
      r.outputs = hits->values[i];
      r.cached = true;
      r.batch = 0;
      auto e = st.inflight.find(req.id);
      std::string key = e != nullptr ? e->key : std::string{};
      ++st.counters.cached;
      std::vector<client_request> none;
      if (!key.empty())
        settle_followers(self, sink, key, req.id, &r, none, now);
      answer(self, sink, req.id, std::move(r), now);
    } else {
      misses.push_back(std::move(req));
    }
  }
  sink.flush(self);
  route(self, misses);
}

/// Sends a lookup for `reqs` to the cache, or routes them without one.
void look_up(self_ptr self, std::vector<client_request>&& reqs) {
  auto& st = self->state;
  if (reqs.empty())
    return;
  if (!st.cache) {
    route(self, reqs);
    return;
  }
  cache_lookup lk;
  lk.tag = st.next_tag++;
  lk.keys.reserve(reqs.size());
  auto mark = mark_now();
  for (auto& r : reqs) {
    auto e = st.inflight.find(r.id);
    if (e != nullptr)
      e->marks.cache_begin = mark;
    lk.keys.push_back(e != nullptr ? e->key : std::string{});
  }
  st.lookups.emplace(lk.tag,
                     coordinator_state::lookup{std::move(reqs), clock::now()});
  self->send(st.cache, std::move(lk));
}

} // namespace

coordinator_actor::behavior_type coordinator(self_ptr self, router_actor router,
                                             cache_actor cache, node_config cfg,
                                             coordinator_telemetry tel) {
  auto& st = self->state;
  st.router = std::move(router);
  st.cache = std::move(cache);
  st.cfg = std::move(cfg);
  st.metrics = std::move(tel.metrics);
  st.log = std::move(tel.log);
  st.gate = std::move(tel.gate);
  st.admit = admission_policy{st.cfg};
  st.stages = stage_tracker{st.cfg.model_table};
  if (st.cache)
    self->monitor(st.cache);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (!st.cache || dm.source != st.cache.address())
      return;
    st.cache = nullptr; // until the node hands over a restarted one
    auto lookups = std::move(st.lookups);
    st.lookups.clear();
    for (auto& [tag, lk] : lookups)
      on_hits(self, std::move(lk), nullptr);
  });
  auto sweep_every = std::min(
      std::chrono::milliseconds{20},
      std::max(std::chrono::milliseconds{1}, st.cfg.request_timeout / 4));
  self->delayed_send(self, sweep_every, tick_atom::value);
  return {
      [=](std::vector<client_request>& reqs) {
        auto& st = self->state;
        auto conn = caf::actor_cast<connection_actor>(self->current_sender());
        if (conn && !st.closed.empty() && st.closed.contains(conn->id())) {
          // Nobody reads the replies: not run. The closed connection only
          // counts them as settled (it lingers for its requests in flight).
          st.counters.orphaned += reqs.size();
          std::vector<client_reply> settled(reqs.size());
          for (size_t i = 0; i < reqs.size(); ++i)
            settled[i].id = reqs[i].id;
          self->send(conn, std::move(settled));
          return;
        }
        auto now = clock::now();
        std::vector<client_reply> immediate;
        std::vector<client_request> cached;
        // Requests to route stay in `reqs`, compacted to its front `routed`
        // entries: no move per request when all of them go on.
        size_t routed = 0;
        for (size_t i = 0; i < reqs.size(); ++i) {
          auto& r = reqs[i];
          if (r.error != 0) {
            st.counters.count_error(static_cast<errc>(r.error));
            note_final(st, r.model, 0, r.error, r.error_message, now);
            immediate.push_back(error_reply(r.id, static_cast<errc>(r.error),
                                            std::move(r.error_message)));
            immediate.back().marks = r.marks;
            if (r.op == op_code::infer) {
              if (r.trace.empty())
                immediate.back().trace_n = st.traces.next();
              else
                immediate.back().trace = std::move(r.trace);
              record(st, r.model, immediate.back());
            }
            continue;
          }
          if (r.op == op_code::cancel) {
            // Ends the connection's stream `target`; the op's own reply
            // follows the stream's last frame.
            reply_sink sink;
            auto rid = st.inflight.find_stream(conn, r.target);
            bool found = rid != 0 && cancel_stream(self, &sink, rid, now);
            client_reply ack;
            ack.id = r.id;
            ack.outputs = cancel_op_outputs(found);
            sink.add(conn, std::move(ack));
            sink.flush(self);
            continue;
          }
          if (r.op != op_code::infer) {
            answer_admin_op(self, conn, std::move(r));
            continue;
          }
          if (st.draining) {
            st.counters.count_error(errc::shutting_down);
            note_final(st, r.model, 0,
                       static_cast<uint8_t>(errc::shutting_down),
                       "node is shutting down", now);
            immediate.push_back(error_reply(r.id, errc::shutting_down,
                                            "node is shutting down"));
            immediate.back().marks = r.marks;
            if (r.trace.empty())
              immediate.back().trace_n = st.traces.next();
            else
              immediate.back().trace = std::move(r.trace);
            record(st, r.model, immediate.back());
            continue;
          }
          auto rid = st.next_rid++;
          auto adm = st.admit.admit(r, now);
          coordinator_state::entry e;
          e.conn = conn;
          e.client_id = r.id;
          e.accepted = now;
          e.deadline = adm.deadline;
          e.marks = r.marks;
          e.model = r.model;
          e.stream = r.stream;
          if (r.trace.empty())
            e.trace_n = st.traces.next();
          else
            e.trace = std::move(r.trace); // only the coordinator uses it
          ++st.counters.accepted;
          r.id = rid;
          r.deadline_ms = static_cast<uint32_t>(adm.timeout.count());
          if (!adm.key.empty()) {
            e.key = std::move(adm.key);
            e.key_version = adm.key_version;
            e.ttl_ms = adm.ttl_ms;
            bool leads = st.coalesce.join(e.key, rid);
            st.inflight.add(rid, std::move(e));
            if (leads)
              cached.push_back(std::move(r));
            else
              st.followers.emplace(rid, std::move(r));
            continue;
          }
          st.inflight.add(rid, std::move(e));
          if (routed != i)
            reqs[routed] = std::move(r);
          ++routed;
        }
        reqs.resize(routed);
        if (!immediate.empty())
          self->send(conn, std::move(immediate));
        route(self, reqs);
        look_up(self, std::move(cached));
      },
      [=](cache_hits& hits) {
        auto& st = self->state;
        auto i = st.lookups.find(hits.tag);
        if (i == st.lookups.end())
          return; // timed out earlier: already routed
        auto lk = std::move(i->second);
        st.lookups.erase(i);
        on_hits(self, std::move(lk), &hits);
      },
      [=](std::vector<model_version>& vs) {
        self->state.admit.set_default_versions(vs);
      },
      [=](cache_actor& c) {
        auto& st = self->state;
        st.cache = std::move(c);
        if (st.cache)
          self->monitor(st.cache);
      },
      [=](std::vector<client_reply>& results) {
        auto& st = self->state;
        auto now = clock::now();
        reply_sink sink{results.size()};
        std::vector<cache_entry> puts;
        std::vector<client_request> reroute;
        std::vector<client_request> hops; // on to a pipeline's next stage
        for (auto& r : results) {
          auto e = st.inflight.find(r.id);
          if (e == nullptr) {
            st.inflight.finish(r.id); // counts it late
            continue;
          }
          if (st.stages.active()) {
            client_request next;
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                e->deadline - now);
            if (st.stages.advance(r, e->stream, left, mark_now(), next)) {
              hops.push_back(std::move(next));
              continue;
            }
          }
          auto rid = r.id;
          if (!e->key.empty()) {
            auto key = e->key;
            if (r.code == 0 && st.cache && r.version == e->key_version)
              puts.push_back(cache_entry{key, r.outputs, e->ttl_ms});
            // An error may be the worker's, not the input's: followers
            // retry rather than inherit it, except for invalid input.
            bool share = r.code == 0 ||
                         r.code == static_cast<uint8_t>(errc::invalid_input);
            settle_followers(self, sink, key, rid, share ? &r : nullptr,
                             reroute, now);
          }
          answer(self, sink, rid, std::move(r), now);
        }
        st.counters.inflight = st.inflight.size();
        if (!puts.empty() && st.cfg.cache.flush_us == 0) {
          // Write-through: these replies go out only after the cache
          // committed their results (docs/operations.md, the cache's crash
          // promise); on a cache error or timeout they go out anyway.
          auto held = std::make_shared<reply_sink>(std::move(sink));
          self->request(st.cache, st.cfg.request_timeout, sync_atom::value,
                        std::move(puts))
              .then([=](bool) { held->flush(self); },
                    [=](caf::error&) { held->flush(self); });
        } else {
          sink.flush(self);
          if (!puts.empty())
            self->send(st.cache, std::move(puts));
        }
        route(self, reroute);
        if (!hops.empty())
          self->send(st.router, std::move(hops));
      },
      [=](std::vector<stream_chunk>& chunks) {
        auto& st = self->state;
        auto now = clock::now();
        reply_sink sink{chunks.size()};
        for (auto& c : chunks) {
          auto e = st.inflight.chunk(c.rid, c.tokens, now);
          if (e == nullptr)
            continue; // ended here already (cancel, deadline): dropped
          client_reply r;
          r.id = e->client_id;
          r.frame = reply_frame::chunk;
          r.outputs = std::move(c.outputs);
          sink.add(e->conn, std::move(r));
        }
        sink.flush(self);
      },
      [=](cancel_atom) {
        // A connection closed: its streams stop, nobody reads their end.
        auto& st = self->state;
        auto conn = caf::actor_cast<connection_actor>(self->current_sender());
        auto now = clock::now();
        if (conn)
          st.closed.add(conn->id(), now);
        for (auto rid : st.inflight.streams_of(conn))
          cancel_stream(self, nullptr, rid, now);
        st.counters.inflight = st.inflight.size();
      },
      [=](drain_atom) {
        self->state.draining = true;
        return static_cast<uint64_t>(self->state.inflight.size());
      },
      [=](tick_atom) {
        auto& st = self->state;
        auto now = clock::now();
        reply_sink sink;
        std::vector<client_request> reroute;
        st.inflight.expire(now, [&](uint64_t rid,
                                    coordinator_state::entry&& e) {
          st.stages.forget(rid);
          auto r = error_reply(e.client_id, errc::deadline_exceeded,
                               "no result within the request's deadline");
          r.trace = e.trace;
          r.trace_n = e.trace_n;
          r.marks = e.marks;
          if (e.stream) {
            finish_stream(e, r, now);
            stop_stream(self, rid, e.model);
          }
          st.counters.count_error(errc::deadline_exceeded);
          record(st, e.model, r);
          note_final(st, e.model, micros_since(e.accepted, now), r.code,
                     r.message, now);
          sink.add(e.conn, std::move(r));
          if (!e.key.empty()) {
            if (st.followers.erase(rid) > 0)
              st.coalesce.leave(e.key, rid);
            else
              settle_followers(self, sink, e.key, rid, nullptr, reroute, now);
          }
        });
        st.closed.expire(now);
        // Lookups the cache did not answer in time count as misses.
        for (auto i = st.lookups.begin(); i != st.lookups.end();) {
          if (now - i->second.sent > cache_timeout) {
            auto lk = std::move(i->second);
            i = st.lookups.erase(i);
            on_hits(self, std::move(lk), nullptr);
          } else {
            ++i;
          }
        }
        st.counters.inflight = st.inflight.size();
        sink.flush(self);
        route(self, reroute);
        if (st.metrics) {
          st.metrics->fold(st.recorder);
          // The snapshot about every 250 ms.
          if (++st.sweeps * sweep_every >= std::chrono::milliseconds{250}) {
            st.sweeps = 0;
            refresh_metrics(self);
          }
        }
        self->delayed_send(self, sweep_every, tick_atom::value);
      },
  };
}

} // namespace dine
