#include "actors/coordinator.hpp"

#include <unordered_map>

#include "messages/errc.hpp"
#include "runtime/ops_encode.hpp"

namespace dine {

namespace {

using self_ptr = coordinator_actor::stateful_pointer<coordinator_state>;
using clock = coordinator_state::clock;

/// Collects replies per connection, then sends one message to each.
class reply_sink {
public:
  void add(const connection_actor& conn, client_reply&& r) {
    for (auto& [c, rs] : out_)
      if (c == conn) {
        rs.push_back(std::move(r));
        return;
      }
    out_.emplace_back(conn, std::vector<client_reply>{});
    out_.back().second.push_back(std::move(r));
  }

  void flush(self_ptr self) {
    for (auto& [c, rs] : out_)
      self->send(c, std::move(rs));
    out_.clear();
  }

private:
  std::vector<std::pair<connection_actor, std::vector<client_reply>>> out_;
};

client_reply make_error_reply(uint64_t id, errc code, std::string msg) {
  client_reply r;
  r.id = id;
  r.code = static_cast<uint8_t>(code);
  r.message = std::move(msg);
  return r;
}

/// Sets a fault hook on the workers the spec names.
void answer_fault(self_ptr self, connection_actor conn, client_request req) {
  auto spec = decode_fault_spec(req.inputs);
  if (!spec) {
    auto [code, msg] = classify(spec.error());
    self->send(conn, std::vector<client_reply>{
                         make_error_reply(req.id, code, std::move(msg))});
    return;
  }
  self->request(self->state.router, std::chrono::seconds{3}, fault_atom::value,
                std::move(*spec))
      .then(
          [=](std::vector<std::string>& names) {
            client_reply r;
            r.id = req.id;
            r.outputs = encode_workers(names);
            self->send(conn, std::vector<client_reply>{std::move(r)});
          },
          [=](caf::error& err) {
            self->send(conn,
                       std::vector<client_reply>{make_error_reply(
                           req.id, errc::unavailable,
                           "router did not answer: " + caf::to_string(err))});
          });
}

/// Answers an admin op after asking the router for a snapshot.
void answer_op(self_ptr self, connection_actor conn, client_request req) {
  if (req.op == op_code::fault) {
    answer_fault(self, std::move(conn), std::move(req));
    return;
  }
  self->request(self->state.router, std::chrono::seconds{3}, stats_atom::value)
      .then(
          [=](cluster_stats& cs) {
            auto& st = self->state;
            client_reply r;
            r.id = req.id;
            if (req.op == op_code::health)
              r.outputs = encode_health(cs);
            else if (req.op == op_code::models)
              r.outputs = encode_models(cs, st.cfg.model_table);
            else
              r.outputs = encode_stats(cs, st.counters);
            self->send(conn, std::vector<client_reply>{std::move(r)});
          },
          [=](caf::error& err) {
            self->send(conn,
                       std::vector<client_reply>{make_error_reply(
                           req.id, errc::unavailable,
                           "router did not answer: " + caf::to_string(err))});
          });
}

uint32_t micros_since(clock::time_point t, clock::time_point now) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - t);
  return static_cast<uint32_t>(std::min<int64_t>(us.count(), UINT32_MAX));
}

} // namespace

coordinator_actor::behavior_type coordinator(self_ptr self, router_actor router,
                                             node_config cfg) {
  auto& st = self->state;
  st.router = std::move(router);
  st.cfg = std::move(cfg);
  auto sweep_every = std::min(
      std::chrono::milliseconds{20},
      std::max(std::chrono::milliseconds{1}, st.cfg.request_timeout / 4));
  self->delayed_send(self, sweep_every, tick_atom::value);
  return {
      [=](std::vector<client_request>& reqs) {
        auto& st = self->state;
        auto conn = caf::actor_cast<connection_actor>(self->current_sender());
        auto now = clock::now();
        std::vector<client_reply> immediate;
        std::vector<client_request> routed;
        routed.reserve(reqs.size());
        for (auto& r : reqs) {
          if (r.error != 0) {
            st.counters.count_error(static_cast<errc>(r.error));
            immediate.push_back(make_error_reply(
                r.id, static_cast<errc>(r.error), std::move(r.error_message)));
            continue;
          }
          if (r.op != op_code::infer) {
            answer_op(self, conn, std::move(r));
            continue;
          }
          if (st.draining) {
            st.counters.count_error(errc::shutting_down);
            immediate.push_back(make_error_reply(r.id, errc::shutting_down,
                                                 "node is shutting down"));
            continue;
          }
          auto rid = st.next_rid++;
          auto timeout = r.deadline_ms > 0
                             ? std::chrono::milliseconds{r.deadline_ms}
                             : st.cfg.request_timeout;
          st.inflight.emplace(
              rid, coordinator_state::entry{conn, r.id, now, now + timeout});
          ++st.counters.accepted;
          r.id = rid;
          r.deadline_ms = static_cast<uint32_t>(timeout.count());
          routed.push_back(std::move(r));
        }
        if (!immediate.empty())
          self->send(conn, std::move(immediate));
        if (!routed.empty())
          self->send(st.router, std::move(routed));
      },
      [=](std::vector<client_reply>& results) {
        auto& st = self->state;
        auto now = clock::now();
        reply_sink sink;
        for (auto& r : results) {
          auto i = st.inflight.find(r.id);
          if (i == st.inflight.end()) {
            ++st.counters.late; // answered already (deadline): never twice
            continue;
          }
          r.id = i->second.client_id;
          r.times.total_us = micros_since(i->second.accepted, now);
          if (r.code == 0)
            ++st.counters.ok;
          else
            st.counters.count_error(static_cast<errc>(r.code));
          sink.add(i->second.conn, std::move(r));
          st.inflight.erase(i);
        }
        st.counters.inflight = st.inflight.size();
        sink.flush(self);
      },
      [=](drain_atom) {
        self->state.draining = true;
        return static_cast<uint64_t>(self->state.inflight.size());
      },
      [=](tick_atom) {
        auto& st = self->state;
        auto now = clock::now();
        reply_sink sink;
        for (auto i = st.inflight.begin(); i != st.inflight.end();) {
          if (i->second.deadline <= now) {
            auto r =
                make_error_reply(i->second.client_id, errc::deadline_exceeded,
                                 "no result within the request's deadline");
            r.times.total_us = micros_since(i->second.accepted, now);
            st.counters.count_error(errc::deadline_exceeded);
            sink.add(i->second.conn, std::move(r));
            i = st.inflight.erase(i);
          } else {
            ++i;
          }
        }
        st.counters.inflight = st.inflight.size();
        sink.flush(self);
        self->delayed_send(self, sweep_every, tick_atom::value);
      },
  };
}

} // namespace dine
