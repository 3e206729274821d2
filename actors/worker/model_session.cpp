#include "actors/worker/model_session.hpp"

#include <chrono>
#include <unordered_map>

#include "messages/errc.hpp"
#include "runtime/model_backend.hpp"

namespace dine {

namespace {

/// Runs the model's @worker steps around its backend: items whose
/// preprocessing failed skip the model with that error.
void run_with_steps(session_state& st, std::vector<batch_item>& items,
                    std::vector<item_result>& out) {
  std::vector<size_t> kept;
  if (!st.steps.pre_all(items, out, kept)) {
    st.backend->run(items, out);
  } else if (!items.empty()) {
    std::vector<item_result> part(items.size());
    for (size_t j = 0; j < kept.size(); ++j)
      part[j].rid = out[kept[j]].rid;
    st.backend->run(items, part);
    for (size_t j = 0; j < kept.size(); ++j)
      out[kept[j]] = std::move(part[j]);
  }
  for (auto& r : out)
    st.steps.post(r);
}

} // namespace

session_actor::behavior_type
model_session(session_actor::stateful_pointer<session_state> self,
              model_config model, std::string worker_name) {
  auto backend = make_backend(model);
  if (backend)
    self->state.backend = std::move(*backend);
  else
    self->quit(backend.error()); // the supervisor sees the reason
  if (auto steps = colocated_steps::make(model))
    self->state.steps = std::move(*steps);
  else
    self->quit(make_error(errc::invalid_config,
                          "model `" + model.name +
                              "`: " + classify(steps.error()).second));
  self->state.worker_name = std::move(worker_name);
  if (model.fault.kind == fault_kind::crash_on_start)
    self->quit(make_error(errc::internal, "injected fault: crash on start"));
  return {
      [=](batch& b) -> caf::result<batch_result> {
        auto& st = self->state;
        if (!st.backend)
          return make_error(errc::unavailable, "model backend failed to load");
        batch_result res;
        res.bid = b.bid;
        res.worker = st.worker_name;
        auto fault = st.armed;
        auto slow_ms = st.armed_slow_ms;
        st.armed = fault_kind::off;
        switch (fault) {
        case fault_kind::crash: {
          // Fail like a crash: the requester sees the error, the
          // supervisor sees the session go down.
          auto err = make_error(errc::internal, "injected fault: crash");
          self->quit(err);
          return err;
        }
        case fault_kind::hang: {
          auto rp = self->make_response_promise<batch_result>();
          st.hung.push_back(rp);
          return rp;
        }
        case fault_kind::error:
          res.code = static_cast<uint8_t>(errc::worker_failed);
          res.message = "injected fault: error";
          return res;
        default:
          break;
        }
        res.items.resize(b.items.size());
        for (size_t i = 0; i < b.items.size(); ++i)
          res.items[i].rid = b.items[i].rid;
        auto start = std::chrono::steady_clock::now();
        try {
          if (st.steps.empty()) {
            st.backend->run(b.items, res.items);
          } else {
            run_with_steps(st, b.items, res.items);
          }
        } catch (const std::exception& e) {
          for (auto& r : res.items) {
            r.code = static_cast<uint8_t>(errc::internal);
            r.message = std::string{"model failed: "} + e.what();
            r.outputs.clear();
          }
        }
        auto delay = st.backend->delay(b.items.size());
        if (fault == fault_kind::slow)
          delay += std::chrono::milliseconds{slow_ms};
        auto spent = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - start);
        res.infer_us = static_cast<uint32_t>((spent + delay).count());
        if (delay.count() == 0)
          return res;
        auto rp = self->make_response_promise<batch_result>();
        auto seq = st.next_seq++;
        st.held.emplace(seq, std::make_pair(rp, std::move(res)));
        self->delayed_send(self, delay, tick_atom::value, seq);
        return rp;
      },
      [=](tick_atom, uint64_t seq) {
        auto& held = self->state.held;
        auto i = held.find(seq);
        if (i == held.end())
          return;
        i->second.first.deliver(std::move(i->second.second));
        held.erase(i);
      },
      [=](fault_atom, fault_kind kind, uint32_t slow_ms) {
        self->state.armed = kind;
        self->state.armed_slow_ms = slow_ms;
      },
      [](step_atom) {
        // gen_session's step loop; a single-shot model has none
      },
      [](cancel_atom, uint64_t) {
        // a batch here runs to its end in one go
      },
  };
}

} // namespace dine
