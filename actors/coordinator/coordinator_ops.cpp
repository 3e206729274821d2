// The coordinator's admin ops: health, models, stats, fault.

#include "actors/coordinator/coordinator.hpp"

#include "messages/errc.hpp"
#include "runtime/error_reply.hpp"

namespace dine {

namespace {

using self_ptr = coordinator_actor::stateful_pointer<coordinator_state>;

void reply(self_ptr self, const connection_actor& conn, client_reply r) {
  self->send(conn, std::vector<client_reply>{std::move(r)});
}

/// Sets a fault hook on the workers the spec names.
void answer_fault(self_ptr self, connection_actor conn, client_request req) {
  if (!self->state.cfg.fault_injection) {
    reply(self, conn,
          error_reply(req.id, errc::forbidden,
                      "fault injection is disabled on this node (start it with "
                      "--enable-fault-injection)"));
    return;
  }
  auto spec = decode_fault_spec(req.inputs);
  if (!spec) {
    auto [code, msg] = classify(spec.error());
    reply(self, conn, error_reply(req.id, code, std::move(msg)));
    return;
  }
  self->request(self->state.router, std::chrono::seconds{3}, fault_atom::value,
                std::move(*spec))
      .then(
          [=](std::vector<std::string>& names) {
            client_reply r;
            r.id = req.id;
            r.outputs = encode_workers(names);
            reply(self, conn, std::move(r));
          },
          [=](caf::error& err) {
            reply(self, conn,
                  error_reply(req.id, errc::unavailable,
                              "router did not answer: " + caf::to_string(err)));
          });
}

void answer_stats(self_ptr self, connection_actor conn, uint64_t id,
                  cluster_stats cs) {
  auto& st = self->state;
  st.counters.coalesced = st.coalesce.coalesced();
  st.counters.inflight = st.inflight.size();
  st.counters.late = st.inflight.late();
  auto finish = [=](const cache_stats* c) {
    auto& st = self->state;
    window_stats ws;
    ws.bucket_ms = static_cast<uint64_t>(st.window.bucket_width().count());
    ws.summary_ms = ws.bucket_ms * st.window.summary_length();
    ws.models = st.window.view(coordinator_state::clock::now());
    ws.recent_errors = st.recent_errors.recent();
    client_reply r;
    r.id = id;
    r.outputs = encode_stats(cs, st.counters, c, &ws);
    reply(self, conn, std::move(r));
  };
  if (!st.cache) {
    finish(nullptr);
    return;
  }
  self->request(st.cache, std::chrono::seconds{2}, stats_atom::value)
      .then([=](cache_stats& c) { finish(&c); },
            [=](caf::error&) { finish(nullptr); });
}

} // namespace

void refresh_metrics(self_ptr self) {
  self->request(self->state.router, std::chrono::seconds{2}, stats_atom::value)
      .then(
          [=](cluster_stats& cs) {
            auto& st = self->state;
            auto inflight = st.inflight.size();
            auto hub = st.metrics;
            if (st.log)
              hub->set_log_dropped(st.log->dropped());
            if (!st.cache) {
              hub->set_cluster(cs, inflight, nullptr);
              return;
            }
            auto shared = std::make_shared<cluster_stats>(std::move(cs));
            self->request(st.cache, std::chrono::seconds{2}, stats_atom::value)
                .then(
                    [=](cache_stats& c) {
                      hub->set_cluster(*shared, inflight, &c);
                    },
                    [=](caf::error&) {
                      hub->set_cluster(*shared, inflight, nullptr);
                    });
          },
          [=](caf::error&) {
            // The router did not answer: the last snapshot stays.
          });
}

void answer_admin_op(self_ptr self, connection_actor conn, client_request req) {
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
            if (req.op == op_code::health) {
              if (st.gate) {
                auto ls = st.gate->status();
                r.outputs = encode_health(cs, &ls);
              } else {
                r.outputs = encode_health(cs);
              }
            } else if (req.op == op_code::models) {
              r.outputs = encode_models(cs, st.cfg.model_table);
            } else {
              answer_stats(self, conn, req.id, std::move(cs));
              return;
            }
            reply(self, conn, std::move(r));
          },
          [=](caf::error& err) {
            reply(self, conn,
                  error_reply(req.id, errc::unavailable,
                              "router did not answer: " + caf::to_string(err)));
          });
}

} // namespace dine
