#include "actors/worker_supervisor.hpp"

#include <deque>
#include <map>

#include "actors/model_session.hpp"
#include "messages/errc.hpp"

namespace dine {

worker_info make_worker_info(const node_config& cfg, const std::string& name) {
  worker_info info;
  info.name = name;
  info.capacity = cfg.capacity;
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
  c.hdl =
      self->spawn<caf::linked>(model_session, c.model, self->state.worker_name);
  self->monitor(c.hdl);
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
    auto& slot = st.sessions.emplace(m, std::move(c)).first->second;
    start_session(self, slot);
  }
  self->set_exit_handler([=](caf::exit_msg& em) {
    for (auto& [model, c] : self->state.sessions)
      if (c.hdl && c.hdl.address() == em.source)
        return; // a session: handled by the down handler
    self->quit(em.reason);
  });
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& [model, c] : st.sessions) {
      if (c.hdl.address() != dm.source)
        continue;
      c.hdl = nullptr;
      auto now = std::chrono::steady_clock::now();
      while (!c.restarts.empty() && now - c.restarts.front() > st.window)
        c.restarts.pop_front();
      if (c.restarts.size() >= st.max_restarts) {
        c.given_up = true;
        return;
      }
      c.restarts.push_back(now);
      auto backoff = std::chrono::milliseconds{10 << (c.restarts.size() - 1)};
      self->delayed_send(self, backoff, restart_atom::value, model);
      return;
    }
  });
  return {
      [=](batch& b) -> caf::result<batch_result> {
        auto& st = self->state;
        ++st.counters.batches;
        st.counters.items += b.items.size();
        auto i = st.sessions.find(b.model);
        if (i != st.sessions.end() && i->second.hdl)
          return self->delegate(i->second.hdl, std::move(b));
        batch_result res;
        res.bid = b.bid;
        res.worker = st.worker_name;
        auto code =
            i == st.sessions.end() ? errc::unknown_model : errc::unavailable;
        for (auto& item : b.items) {
          item_result r;
          r.rid = item.rid;
          r.code = static_cast<uint8_t>(code);
          r.message =
              "model `" + b.model + "` is not running on " + st.worker_name;
          res.items.push_back(std::move(r));
        }
        return res;
      },
      [=](stats_atom) { return self->state.counters; },
      [=](restart_atom, std::string& model) {
        auto& st = self->state;
        auto i = st.sessions.find(model);
        if (i != st.sessions.end() && !i->second.hdl && !i->second.given_up)
          start_session(self, i->second);
      },
  };
}

} // namespace dine
