#include "actors/worker/worker_supervisor.hpp"

#include <algorithm>
#include <deque>
#include <map>

#include "actors/worker/gen_session.hpp"
#include "actors/worker/model_session.hpp"
#include <caf/actor_ostream.hpp>

#include "messages/errc.hpp"
#include "runtime/backends/generator.hpp"
#include "runtime/metrics_hub.hpp"

namespace dine {

worker_info make_worker_info(const node_config& cfg, const std::string& name) {
  worker_info info;
  info.name = name;
  info.capacity = cfg.capacity;
  info.token = cfg.security.cluster_token;
  for (auto& m : cfg.models) {
    model_decl d;
    d.name = m;
    if (auto i = cfg.model_table.find(m); i != cfg.model_table.end())
      d.version = i->second.version;
    info.models.push_back(std::move(d));
  }
  return info;
}

namespace {

using self_ptr = worker_actor::stateful_pointer<worker_supervisor_state>;

void start_session(self_ptr self, worker_supervisor_state::child& c) {
  // Linked so that a stopping supervisor stops its sessions; monitored to
  // learn of a crash (the exit handler below keeps the link from killing us).
  if (c.generative)
    c.hdl =
        self->spawn<caf::linked>(gen_session, c.model, self->state.worker_name,
                                 caf::actor_cast<worker_actor>(self));
  else
    c.hdl = self->spawn<caf::linked>(model_session, c.model,
                                     self->state.worker_name);
  self->monitor(c.hdl);
  self->state.linked.insert(c.hdl.address());
}

/// Hands `b` to the session of `c`, arming the fault hook's decision.
/// Chunks of its streamed items go to `from`, the batcher.
void dispatch(self_ptr self, worker_supervisor_state::child& c, batch b,
              caf::typed_response_promise<batch_result> rp,
              caf::strong_actor_ptr from) {
  auto& st = self->state;
  batch_result failed;
  failed.bid = b.bid;
  failed.worker = st.worker_name;
  std::vector<uint64_t> streamed;
  if (c.generative)
    for (auto& it : b.items)
      if (it.stream) {
        streamed.push_back(it.rid);
        st.streams[it.rid] = from;
      }
  auto fault = c.fault.next();
  if (fault != fault_kind::off)
    self->send(c.hdl, fault_atom::value, fault, c.fault.spec().slow_ms);
  // No timeout: a crash answers with an error at once, and a hung session
  // is the batcher's batch timeout to handle.
  ++st.inflight;
  self->request(c.hdl, caf::infinite, std::move(b))
      .then(
          [=](batch_result& res) mutable {
            --self->state.inflight;
            for (auto rid : streamed)
              self->state.streams.erase(rid);
            rp.deliver(std::move(res));
          },
          [=](caf::error& err) mutable {
            --self->state.inflight;
            for (auto rid : streamed)
              self->state.streams.erase(rid);
            failed.code = static_cast<uint8_t>(errc::worker_failed);
            failed.message = "session failed: " + caf::to_string(err);
            rp.deliver(std::move(failed));
          });
}

/// Answers the batches held for `c` with `unavailable`.
void fail_held(self_ptr self, worker_supervisor_state::child& c) {
  for (auto& h : c.held) {
    batch_result res;
    res.bid = h.b.bid;
    res.worker = self->state.worker_name;
    res.code = static_cast<uint8_t>(errc::unavailable);
    res.message = c.start_error.empty()
                      ? "model `" + c.model.name + "` gave up on " +
                            self->state.worker_name + " after repeated crashes"
                      : c.start_error;
    h.rp.deliver(std::move(res));
  }
  c.held.clear();
}

/// The worker's batch entry point: runs `b` on the session of its model,
/// holds it while that session restarts, and answers `unavailable` for a
/// model not served here or given up on.
caf::result<batch_result> run_batch(self_ptr self, batch& b) {
  auto& st = self->state;
  ++st.counters.batches;
  st.counters.items += b.items.size();
  auto i = st.sessions.find(b.model);
  if (i == st.sessions.end() || i->second.given_up) {
    batch_result res;
    res.bid = b.bid;
    res.worker = st.worker_name;
    res.code = static_cast<uint8_t>(errc::unavailable);
    res.message = "model `" + b.model + "` is not served on " + st.worker_name;
    if (i != st.sessions.end() && !i->second.start_error.empty())
      res.message += ": " + i->second.start_error;
    return res;
  }
  // Before the promise takes over the request (and its sender).
  auto from = self->current_sender();
  auto rp = self->make_response_promise<batch_result>();
  auto& c = i->second;
  if (c.hdl)
    dispatch(self, c, std::move(b), rp, from);
  else // restarting: wait for it
    c.held.push_back({std::move(b), rp, from});
  return rp;
}

} // namespace

worker_actor::behavior_type worker_supervisor(self_ptr self, node_config cfg,
                                              std::string name) {
  auto& st = self->state;
  st.worker_name = name;
  st.counters.name = name;
  for (auto& m : cfg.models) {
    worker_supervisor_state::child c;
    c.model = cfg.model_table.at(m);
    c.generative = is_generative(c.model.backend);
    c.fault.set(c.model.fault);
    c.restarts =
        session_restarts{st.max_restarts, st.window, st.first_restart_delay};
    auto& slot = st.sessions.emplace(m, std::move(c)).first->second;
    start_session(self, slot);
  }
  self->set_exit_handler([=](caf::exit_msg& em) {
    // A session's exit is handled by the down handler; anything else
    // (the node stopping us) stops the worker.
    if (self->state.linked.erase(em.source) > 0)
      return;
    self->quit(em.reason);
  });
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& [model, c] : st.sessions) {
      if (c.hdl.address() != dm.source)
        continue;
      c.hdl = nullptr;
      auto [code, what] = classify(dm.reason);
      if (code == errc::invalid_config) {
        // The model's files or keys are bad (docs/operations.md, "Models"):
        // a restart would fail the same way. Say why once and serve the
        // other models.
        c.given_up = true;
        c.start_error = what;
        caf::aout(self) << "worker " << st.worker_name << ": model `" << model
                        << "` cannot start, not serving it: " << what
                        << std::endl;
        fail_held(self, c);
        return;
      }
      auto delay = c.restarts.on_crash(std::chrono::steady_clock::now());
      if (!delay) {
        c.given_up = true;
        caf::aout(self) << "worker " << st.worker_name << ": model `" << model
                        << "` crashed " << st.max_restarts + 1
                        << " times within " << st.window.count()
                        << " s: giving up" << std::endl;
        fail_held(self, c);
        return;
      }
      self->delayed_send(self, *delay, restart_atom::value, model);
      return;
    }
  });
  return {
      [=](batch& b) { return run_batch(self, b); },
      [=](fault_atom, fault_spec& spec) {
        auto& st = self->state;
        for (auto& [model, c] : st.sessions)
          if (spec.model.empty() || spec.model == model) {
            c.fault.set(spec);
            c.model.fault = spec; // crash_on_start acts on the next start
            if (spec.kind != fault_kind::off || !c.given_up || c.hdl)
              continue;
            // Turning faults off revives a model given up on: a fresh
            // restart window, and the router offers the worker to its
            // batchers again (docs/operations.md, "Fault hooks").
            c.given_up = false;
            c.start_error.clear();
            c.restarts.reset();
            start_session(self, c);
            caf::aout(self)
                << "worker " << st.worker_name << ": model `" << model
                << "` restarted (fault hooks off)" << std::endl;
          }
      },
      [=](drain_atom) { return self->state.inflight; },
      [=](std::vector<stream_chunk>& chunks) {
        // From a gen_session: to the batcher of each request (one message
        // per batcher; normally there is one).
        auto& st = self->state;
        std::vector<std::pair<caf::strong_actor_ptr, std::vector<stream_chunk>>>
            out;
        for (auto& ch : chunks) {
          auto i = st.streams.find(ch.rid);
          if (i == st.streams.end() || !i->second)
            continue;
          auto j = std::find_if(out.begin(), out.end(),
                                [&](auto& x) { return x.first == i->second; });
          if (j == out.end())
            j = out.emplace(out.end(), i->second, std::vector<stream_chunk>{});
          j->second.push_back(std::move(ch));
        }
        for (auto& [to, cs] : out)
          self->send(caf::actor_cast<batcher_actor>(to), std::move(cs));
      },
      [=](cancel_atom, std::string& model, uint64_t rid) {
        auto& st = self->state;
        auto i = st.sessions.find(model);
        if (i != st.sessions.end() && i->second.hdl)
          self->send(i->second.hdl, cancel_atom::value, rid);
      },
      [=](stats_atom) { return self->state.counters; },
      [=](restart_atom, std::string& model) {
        auto& st = self->state;
        auto i = st.sessions.find(model);
        if (i == st.sessions.end() || i->second.hdl || i->second.given_up)
          return;
        auto& c = i->second;
        count_supervisor_restart();
        start_session(self, c);
        auto held = std::move(c.held);
        c.held.clear();
        for (auto& h : held)
          dispatch(self, c, std::move(h.b), h.rp, h.from);
      },
  };
}

} // namespace dine
