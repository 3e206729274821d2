#include "actors/worker/gen_session.hpp"

#include "messages/errc.hpp"
#include "runtime/stream_outputs.hpp"

namespace dine {

namespace {

using self_ptr = session_actor::stateful_pointer<gen_session_state>;
using clock = gen_session_state::clock;

/// Sends the next `step` unless one is on its way.
void kick(self_ptr self) {
  auto& st = self->state;
  if (st.stepping || !st.gen || !st.gen->busy())
    return;
  st.stepping = true;
  self->send(self, step_atom::value);
}

/// Records the end of sequence `rid` in its batch; delivers the batch's
/// result once its last sequence ended.
void end_sequence(self_ptr self, uint64_t rid, item_result&& r) {
  auto& st = self->state;
  auto i = st.seqs.find(rid);
  if (i == st.seqs.end())
    return;
  auto seq = i->second;
  st.seqs.erase(i);
  auto b = st.batches.find(seq.key);
  if (b == st.batches.end())
    return;
  auto& p = b->second;
  r.rid = rid;
  p.res.items[seq.index] = std::move(r);
  if (--p.left > 0)
    return;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() -
                                                                  p.start);
  p.res.infer_us =
      static_cast<uint32_t>(std::min<int64_t>(us.count(), UINT32_MAX));
  auto gs = st.gen->stats(); // after this step: what `stats` shows
  p.res.kv_blocks_total = gs.kv_blocks_total;
  p.res.kv_blocks_used = gs.kv_blocks_used;
  p.res.seqs_running = gs.running;
  p.res.seqs_waiting = gs.waiting;
  p.rp.deliver(std::move(p.res));
  st.batches.erase(b);
}

/// One decode step: chunks of streamed sequences to the parent, results of
/// ended ones to their batches.
void step(self_ptr self) {
  auto& st = self->state;
  std::vector<gen_event> events;
  try {
    st.gen->step(events);
  } catch (const std::exception& e) {
    // The generator's state is unknown now: fail everything in flight.
    auto seqs = st.seqs;
    for (auto& [rid, s] : seqs) {
      item_result r;
      r.code = static_cast<uint8_t>(errc::internal);
      r.message = std::string{"model failed: "} + e.what();
      st.gen->cancel(rid);
      end_sequence(self, rid, std::move(r));
    }
    return;
  }
  std::vector<stream_chunk> chunks;
  for (auto& ev : events) {
    auto i = st.seqs.find(ev.seq);
    if (i == st.seqs.end())
      continue;
    if (i->second.stream && (!ev.tokens.empty() || !ev.text.empty()))
      chunks.push_back(stream_chunk{i->second.bid, ev.seq,
                                    static_cast<uint32_t>(ev.tokens.size()),
                                    encode_chunk_outputs(ev.text, ev.tokens)});
    if (!ev.done)
      continue;
    item_result r;
    if (ev.reason == finish_reason::error) {
      r.code = ev.code != 0 ? ev.code : static_cast<uint8_t>(errc::internal);
      r.message = std::move(ev.message);
    } else {
      r.outputs = i->second.stream ? stream_final_outputs(ev.outputs)
                                   : std::move(ev.outputs);
      if (!i->second.stream && !st.steps.empty())
        st.steps.post(r); // a stream's chunks went out as they were
    }
    if (!chunks.empty()) { // the chunks first: they share the path
      self->send(st.parent, std::move(chunks));
      chunks = {};
    }
    end_sequence(self, ev.seq, std::move(r));
  }
  if (!chunks.empty())
    self->send(st.parent, std::move(chunks));
}

} // namespace

session_actor::behavior_type gen_session(self_ptr self, model_config model,
                                         std::string worker_name,
                                         worker_actor parent) {
  auto& st = self->state;
  auto gen = make_generator(model);
  if (gen)
    st.gen = std::move(*gen);
  else
    self->quit(gen.error()); // the supervisor sees the reason
  if (auto steps = colocated_steps::make(model))
    st.steps = std::move(*steps);
  else
    self->quit(make_error(errc::invalid_config,
                          "model `" + model.name +
                              "`: " + classify(steps.error()).second));
  st.worker_name = std::move(worker_name);
  st.parent = std::move(parent);
  if (model.fault.kind == fault_kind::crash_on_start)
    self->quit(make_error(errc::internal, "injected fault: crash on start"));
  return {
      [=](batch& b) -> caf::result<batch_result> {
        auto& st = self->state;
        if (!st.gen)
          return make_error(errc::unavailable, "model backend failed to load");
        batch_result res;
        res.bid = b.bid;
        res.worker = st.worker_name;
        auto fault = st.armed;
        st.armed = fault_kind::off;
        if (fault == fault_kind::crash) {
          auto err = make_error(errc::internal, "injected fault: crash");
          self->quit(err);
          return err;
        }
        if (fault == fault_kind::hang) {
          auto rp = self->make_response_promise<batch_result>();
          st.hung.push_back(rp);
          return rp;
        }
        if (fault == fault_kind::error) {
          res.code = static_cast<uint8_t>(errc::worker_failed);
          res.message = "injected fault: error";
          return res;
        }
        auto now = clock::now();
        auto key = st.next_key++;
        res.items.resize(b.items.size());
        size_t left = 0;
        for (size_t k = 0; k < b.items.size(); ++k) {
          auto& it = b.items[k];
          res.items[k].rid = it.rid;
          if (!st.steps.empty() && !st.steps.pre(it, res.items[k]))
            continue;
          auto wait = now + std::chrono::milliseconds{it.wait_ms};
          if (auto err = st.gen->add(it.rid, it.inputs, wait)) {
            auto [code, msg] = classify(err);
            res.items[k].code = static_cast<uint8_t>(code);
            res.items[k].message = std::move(msg);
            continue;
          }
          st.seqs[it.rid] =
              gen_session_state::sequence{key, b.bid, k, it.stream};
          ++left;
        }
        if (left == 0)
          return res;
        auto rp = self->make_response_promise<batch_result>();
        st.batches.emplace(
            key, gen_session_state::pending{rp, std::move(res), left, now});
        kick(self);
        return rp;
      },
      [=](step_atom) {
        self->state.stepping = false;
        step(self);
        kick(self);
      },
      [=](cancel_atom, uint64_t rid) {
        auto& st = self->state;
        if (st.gen && st.seqs.count(rid) > 0) {
          st.gen->cancel(rid); // ends at the next step
          kick(self);
        }
      },
      [](tick_atom, uint64_t) {
        // model_session's delayed results; a generator has none
      },
      [=](fault_atom, fault_kind kind, uint32_t) { self->state.armed = kind; },
  };
}

} // namespace dine
