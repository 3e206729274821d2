#include "actors/supervision/supervisor.hpp"

#include <caf/actor_cast.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/unit.hpp>

#include <algorithm>
#include <chrono>

#include "messages/errc.hpp"
#include "runtime/metrics_hub.hpp"

namespace dine {

bool is_abnormal_exit(const caf::error& reason) {
  return reason && reason != caf::exit_reason::normal &&
         reason != caf::exit_reason::user_shutdown;
}

namespace {

using self_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

using phase = supervisor_state::phase;

supervisor_state::child* find_child(self_ptr self, const std::string& id) {
  for (auto& c : *self->state.children)
    if (c.spec.id == id)
      return &c;
  return nullptr;
}

supervisor_state::child* find_child(self_ptr self,
                                    const caf::actor_addr& addr) {
  for (auto& c : *self->state.children)
    if (c.hdl && c.hdl.address() == addr)
      return &c;
  return nullptr;
}

std::string describe(const supervisor_flags& flags) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(flags.period);
  return std::to_string(flags.intensity) + " restarts in " +
         std::to_string(ms.count()) + " ms";
}

// Spawns `c` through its factory and monitors it; false if it failed.
bool start_child(self_ptr self, supervisor_state::child& c) {
  caf::actor hdl;
  try {
    hdl = c.start(self);
  } catch (...) {
    hdl = nullptr;
  }
  if (!hdl)
    return false;
  c.hdl = std::move(hdl);
  self->monitor(c.hdl);
  return true;
}

void handle_exit(self_ptr self, const std::string& id, bool abnormal);

// Runs when `to_stop` is done: terminates, or starts `to_start` and then
// handles the exits that arrived meanwhile.
void finish(self_ptr self) {
  auto& st = self->state;
  if (st.mode == phase::stopping) {
    for (auto& rp : st.stop_requests)
      rp.deliver(caf::unit);
    st.stop_requests.clear();
    self->quit(st.reason);
    return;
  }
  st.mode = phase::running;
  auto ids = std::move(st.to_start);
  st.to_start.clear();
  for (auto& id : ids) {
    auto c = find_child(self, id);
    if (c == nullptr)
      continue;
    if (start_child(self, *c)) {
      // Typed actors may only send() to typed actors.
      for (auto& s : st.subscribers)
        caf::anon_send(s, restarted_atom::value, id, c->hdl);
    } else {
      // OTP retries a failed restart as another restart: same here, so a
      // child that keeps failing eventually exceeds the intensity.
      st.exits.emplace_back(id, true);
    }
  }
  while (st.mode == phase::running && !st.exits.empty()) {
    auto [exited, abnormal] = std::move(st.exits.front());
    st.exits.erase(st.exits.begin());
    handle_exit(self, exited, abnormal);
  }
}

// Stops the next child of `to_stop` that is still alive, or finishes.
void stop_next(self_ptr self) {
  auto& st = self->state;
  while (!st.to_stop.empty()) {
    auto id = std::move(st.to_stop.front());
    st.to_stop.pop_front();
    auto c = find_child(self, id);
    if (c == nullptr || !c->hdl)
      continue;
    st.stopping = id;
    auto token = ++st.timer;
    if (c->spec.shutdown == brutal_kill) {
      self->send_exit(c->hdl, caf::exit_reason::kill);
    } else {
      self->send_exit(c->hdl, caf::exit_reason::user_shutdown);
      if (c->spec.shutdown != infinite_shutdown)
        self->delayed_send(self, c->spec.shutdown, tick_atom::value, token);
    }
    return; // The down handler continues.
  }
  st.stopping.clear();
  finish(self);
}

// Stops every child in reverse start order, then terminates with `reason`.
void begin_shutdown(self_ptr self, caf::error reason) {
  auto& st = self->state;
  if (st.mode == phase::stopping)
    return;
  st.mode = phase::stopping;
  st.reason = std::move(reason);
  st.exits.clear();
  st.to_start.clear();
  st.policy.stop_all();
  st.to_stop.clear();
  auto& xs = *st.children;
  for (auto i = xs.rbegin(); i != xs.rend(); ++i)
    if (i->hdl && i->spec.id != st.stopping)
      st.to_stop.push_back(i->spec.id);
  if (st.stopping.empty())
    stop_next(self);
}

// Asks the policy about the exit of the running child `id` and acts.
void handle_exit(self_ptr self, const std::string& id, bool abnormal) {
  auto& st = self->state;
  auto d =
      st.policy.on_child_exit(id, abnormal, std::chrono::steady_clock::now());
  switch (d.action) {
  case supervisor_action::none:
    return;
  case supervisor_action::escalate:
    begin_shutdown(self, make_error(errc::supervisor_gave_up,
                                    "supervisor " + st.label + ": child " + id +
                                        " exited after more than " +
                                        describe(st.policy.flags())));
    return;
  case supervisor_action::restart:
    count_supervisor_restart();
    st.mode = phase::restarting;
    st.to_stop.assign(d.stop.begin(), d.stop.end());
    st.to_start = std::move(d.start);
    stop_next(self);
    return;
  }
}

supervisor_actor::behavior_type make_behavior(self_ptr self) {
  return {
      [=](children_atom) {
        std::vector<child_info> result;
        for (auto& c : self->state.policy.children()) {
          child_info info;
          info.id = c.spec.id;
          info.restarts = static_cast<uint32_t>(c.restarts);
          if (auto x = find_child(self, c.spec.id))
            info.handle = x->hdl;
          result.push_back(std::move(info));
        }
        return result;
      },
      [=](stop_atom) -> caf::result<void> {
        auto rp = self->make_response_promise();
        self->state.stop_requests.push_back(rp);
        begin_shutdown(self, caf::exit_reason::normal);
        return rp;
      },
      [=](caf::subscribe_atom, caf::actor subscriber) {
        auto& xs = self->state.subscribers;
        if (subscriber &&
            std::find(xs.begin(), xs.end(), subscriber) == xs.end())
          xs.push_back(std::move(subscriber));
      },
      [=](tick_atom, uint64_t token) {
        // The shutdown timeout of the child being stopped ran out.
        auto& st = self->state;
        if (token != st.timer || st.stopping.empty())
          return;
        if (auto c = find_child(self, st.stopping); c && c->hdl)
          self->send_exit(c->hdl, caf::exit_reason::kill);
      },
  };
}

} // namespace

supervisor_actor::behavior_type
supervisor(self_ptr self, std::string label, supervisor_flags flags,
           std::vector<supervised_child> children) {
  auto& st = self->state;
  st.label = std::move(label);
  st.children = std::make_shared<std::vector<supervisor_state::child>>();
  std::vector<child_spec> specs;
  std::string err;
  for (auto& x : children) {
    if (!x.start && err.empty())
      err = "child " + x.spec.id + " has no factory";
    specs.push_back(x.spec);
    st.children->push_back({x.spec, std::move(x.start), nullptr});
  }
  // Children must not outlive their supervisor, whatever ends it (even an
  // untrappable kill): kill the ones still alive.
  self->attach_functor([xs = st.children](const caf::error&) {
    for (auto& c : *xs)
      if (c.hdl)
        caf::anon_send_exit(c.hdl, caf::exit_reason::kill);
  });
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    auto c = find_child(self, dm.source);
    if (c == nullptr)
      return; // An earlier incarnation or not a child.
    c->hdl = nullptr;
    auto id = c->spec.id;
    if (id == st.stopping) {
      stop_next(self);
      return;
    }
    switch (st.mode) {
    case phase::running:
      handle_exit(self, id, is_abnormal_exit(dm.reason));
      return;
    case phase::restarting:
      // A child due to be stopped needs nothing more; any other exit is
      // handled once the restart is done.
      if (std::find(st.to_stop.begin(), st.to_stop.end(), id) ==
          st.to_stop.end())
        st.exits.emplace_back(id, is_abnormal_exit(dm.reason));
      return;
    case phase::stopping:
      return;
    }
  });
  self->set_exit_handler([=](caf::exit_msg& em) {
    if (find_child(self, em.source) != nullptr)
      return; // A child linked by its factory: the down handler acts.
    if (!em.reason || em.reason == caf::exit_reason::normal)
      return; // Like CAF's default exit handler.
    begin_shutdown(self, std::move(em.reason));
  });
  if (err.empty())
    err = supervisor_policy::validate(flags, specs);
  if (!err.empty()) {
    self->quit(make_error(errc::invalid_config,
                          "supervisor " + st.label + ": " + err));
    return make_behavior(self);
  }
  st.policy = supervisor_policy{flags, std::move(specs)};
  for (auto& id : st.policy.start_all()) {
    if (!start_child(self, *find_child(self, id))) {
      begin_shutdown(self, make_error(errc::child_start_failed,
                                      "supervisor " + st.label + ": child " +
                                          id + " did not start"));
      break;
    }
  }
  return make_behavior(self);
}

child_factory supervisor_factory(std::string label, supervisor_flags flags,
                                 std::vector<supervised_child> children) {
  return [=](caf::local_actor* self) {
    return caf::actor_cast<caf::actor>(
        self->spawn(supervisor, label, flags, children));
  };
}

} // namespace dine
