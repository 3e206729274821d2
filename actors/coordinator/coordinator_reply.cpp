#include "actors/coordinator/coordinator_reply.hpp"

#include "messages/errc.hpp"
#include "runtime/error_reply.hpp"
#include "runtime/stage_times.hpp"
#include "runtime/stream_outputs.hpp"

namespace dine::coordinator_detail {

uint32_t micros_since(clock::time_point t, clock::time_point now) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - t);
  return static_cast<uint32_t>(std::min<int64_t>(us.count(), UINT32_MAX));
}

/// Records and (when sampled or failed) logs the final reply `r`, whose
/// trace id is set, of a request of `model`.
/// The stage timings are the reply's as of now: the connection computes
/// the final ones when it encodes the reply (`write` and `total` there
/// also hold the last hop to it).
void record(coordinator_state& st, const std::string& model,
            const client_reply& r) {
  static const std::string unknown = "unknown";
  auto& m = model.empty() ? unknown : model;
  bool log = st.log &&
             st.log->enabled(r.code == 0 ? log_level::info : log_level::warn) &&
             (r.code != 0 || st.cfg.trace_sample > 0) &&
             should_log(trace_of(r), r.code, st.cfg.trace_sample);
  if (!st.metrics && !log)
    return;
  auto t = r.times;
  fill_stage_times(r.marks, mark_now(), t);
  if (st.metrics)
    st.recorder.record(m, r.code, t, !r.cached && !r.worker.empty());
  if (log) {
    client_reply line; // what the log line shows, without the outputs
    line.code = r.code;
    line.message = r.message;
    line.cached = r.cached;
    line.worker = r.worker;
    line.batch = r.batch;
    line.times = t;
    line.frame = r.frame;
    line.trace = trace_of(r);
    st.log->push(request_log_line(m, line, st.cfg.log_format == "json"));
  }
}

/// Records the final reply of a request for `model` in the window and, if
/// it is an error, in the recent errors. A model nobody serves is not
/// given a series (clients choose the names); its error is still listed.
void note_final(coordinator_state& st, const std::string& model,
                uint64_t total_us, uint8_t code, const std::string& message,
                clock::time_point now) {
  if (code != static_cast<uint8_t>(errc::unknown_model))
    st.window.record(model, total_us, code == 0, now);
  if (code == 0)
    return;
  auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  st.recent_errors.add(static_cast<uint64_t>(wall.count()), model,
                       to_string(static_cast<errc>(code)), message);
}

/// Makes `r` the last frame of the stream `e`, with its token timings.
void finish_stream(const coordinator_state::entry& e, client_reply& r,
                   clock::time_point now) {
  r.frame = reply_frame::last;
  if (e.chunks == 0)
    return;
  r.times.ttft_us = micros_since(e.accepted, e.first_chunk);
  if (e.tokens > 1)
    r.times.tpot_us = micros_since(e.first_chunk, now) / (e.tokens - 1);
}

/// Stops the sequence of stream `rid` wherever it runs (it is freed at the
/// next step); its final reply was sent here.
void stop_stream(self_ptr self, uint64_t rid, const std::string& model) {
  self->send(self->state.router, cancel_atom::value, model, rid);
}

/// Ends stream `rid` at once with `finish_reason: cancelled` (sent to its
/// connection through `sink`, if any) and stops its sequence. Returns
/// false if it is not in flight.
bool cancel_stream(self_ptr self, reply_sink* sink, uint64_t rid,
                   clock::time_point now) {
  auto& st = self->state;
  auto e = st.inflight.finish(rid);
  if (!e)
    return false;
  st.stages.forget(rid);
  stop_stream(self, rid, e->model);
  if (sink == nullptr)
    return true; // the connection is gone
  client_reply r;
  r.id = e->client_id;
  r.outputs = cancelled_outputs(e->tokens);
  r.trace = e->trace;
  r.trace_n = e->trace_n;
  r.marks = e->marks;
  finish_stream(*e, r, now);
  ++st.counters.ok;
  record(st, e->model, r);
  note_final(st, e->model, micros_since(e->accepted, now), 0, {}, now);
  sink->add(e->conn, std::move(r));
  return true;
}

/// Answers request `rid` with its final reply `r` (id rewritten) if it is
/// still in flight; else drops `r` (counted `late` by the table).
void answer(self_ptr self, reply_sink& sink, uint64_t rid, client_reply r,
            clock::time_point now) {
  auto& st = self->state;
  auto e = st.inflight.finish(rid);
  if (!e)
    return; // answered already (deadline): never twice
  st.stages.forget(rid);
  r.id = e->client_id;
  r.trace = e->trace;
  r.trace_n = e->trace_n;
  // The trip to the worker (sent, received) is the result's own; a
  // follower shares its leader's.
  r.marks.read = e->marks.read;
  r.marks.decoded = e->marks.decoded;
  r.marks.cache_begin = e->marks.cache_begin;
  r.marks.cache_end = e->marks.cache_end;
  if (e->stream)
    finish_stream(*e, r, now);
  record(st, e->model, r);
  if (r.code == 0)
    ++st.counters.ok;
  else
    st.counters.count_error(static_cast<errc>(r.code));
  note_final(st, e->model, micros_since(e->accepted, now), r.code, r.message,
             now);
  sink.add(e->conn, std::move(r));
}

/// Shares the leader's result with its followers, or hands the leadership
/// to the oldest follower when the leader has no result to share.
void settle_followers(self_ptr self, reply_sink& sink, const std::string& key,
                      uint64_t leader, const client_reply* result,
                      std::vector<client_request>& reroute,
                      clock::time_point now) {
  auto& st = self->state;
  if (result != nullptr) {
    for (auto rid : st.coalesce.complete(key, leader)) {
      st.followers.erase(rid);
      answer(self, sink, rid, *result, now);
    }
    return;
  }
  if (auto next = st.coalesce.promote(key, leader)) {
    auto i = st.followers.find(next);
    if (i != st.followers.end()) {
      reroute.push_back(std::move(i->second));
      st.followers.erase(i);
    }
  }
}

} // namespace dine::coordinator_detail
