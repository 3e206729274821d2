#include "runtime/stage_tracker.hpp"

#include <algorithm>

#include "messages/errc.hpp"
#include "runtime/stage_models.hpp"

namespace dine {

namespace {

/// Prefixes `msg` with the stage's name unless it names it already.
void name_stage(std::string& msg, const char* stage) {
  if (msg.rfind(stage, 0) != 0)
    msg = std::string{stage} + " stage: " + msg;
}

} // namespace

stage_tracker::stage_tracker(const std::map<std::string, model_config>& table) {
  for (auto& [name, m] : table) {
    if (m.backend == "stage")
      continue;
    plan p{has_pool_stage(m, step_list::pre),
           has_pool_stage(m, step_list::post), m.pipeline.fallback};
    if (p.pre || p.post)
      plans_.emplace(name, p);
  }
}

void stage_tracker::enter(client_request& r) {
  auto p = plans_.find(r.model);
  if (p == plans_.end())
    return;
  tracked t;
  auto inputs = std::move(r.inputs);
  t.req = r;
  r.inputs = std::move(inputs);
  t.post = p->second.post;
  t.fallback = p->second.fallback;
  t.at = p->second.pre ? phase::pre : phase::model;
  if (t.fallback && p->second.pre)
    t.stage_inputs = r.inputs;
  reqs_[r.id] = std::move(t);
  if (p->second.pre) {
    r.model = stage_model_name(r.model, step_list::pre);
    r.version = 0;
  }
}

client_request stage_tracker::hop(const tracked& t, const std::string& model,
                                  std::vector<uint8_t>&& inputs,
                                  std::chrono::milliseconds remaining) {
  client_request next = t.req;
  next.model = model;
  if (model != t.req.model)
    next.version = 0;
  next.inputs = std::move(inputs);
  next.deadline_ms = static_cast<uint32_t>(
      std::clamp<int64_t>(remaining.count(), 1, UINT32_MAX));
  return next;
}

bool stage_tracker::falls_back(uint8_t code) noexcept {
  switch (static_cast<errc>(code)) {
  case errc::unknown_model:
  case errc::unavailable:
  case errc::overloaded:
  case errc::worker_failed:
    return true;
  default:
    return false;
  }
}

bool stage_tracker::advance(client_reply& r, bool stream,
                            std::chrono::milliseconds remaining, int64_t mark,
                            client_request& next) {
  if (reqs_.empty())
    return false;
  auto i = reqs_.find(r.id);
  if (i == reqs_.end())
    return false;
  auto& t = i->second;
  switch (t.at) {
  case phase::pre:
    t.pre_end = mark;
    if (r.code != 0 && t.fallback && !t.fell_back && falls_back(r.code)) {
      t.fell_back = true;
      next = hop(t, fallback_model_name(t.req.model, step_list::pre),
                 std::move(t.stage_inputs), remaining);
      return true;
    }
    if (r.code != 0) {
      name_stage(r.message, "preproc");
      break;
    }
    next = hop(t, t.req.model, std::move(r.outputs), remaining);
    t.at = phase::model;
    t.fell_back = false;
    t.stage_inputs.clear();
    return true;
  case phase::model:
    if (t.post && !stream && r.code == 0) {
      t.post_begin = mark;
      t.sent = r.marks.sent;
      t.received = r.marks.received;
      t.infer_us = r.times.infer_us;
      t.batch = r.batch;
      t.version = r.version;
      t.worker = std::move(r.worker);
      if (t.fallback)
        t.stage_inputs = r.outputs;
      next = hop(t, stage_model_name(t.req.model, step_list::post),
                 std::move(r.outputs), remaining);
      t.at = phase::post;
      return true;
    }
    break;
  case phase::post:
    if (r.code != 0 && t.fallback && !t.fell_back && falls_back(r.code)) {
      t.fell_back = true;
      next = hop(t, fallback_model_name(t.req.model, step_list::post),
                 std::move(t.stage_inputs), remaining);
      return true;
    }
    if (r.code != 0)
      name_stage(r.message, "postproc");
    r.marks.sent = t.sent;
    r.marks.received = t.received;
    r.marks.post_begin = t.post_begin;
    r.marks.post_end = mark;
    r.times.infer_us = t.infer_us;
    r.batch = t.batch;
    r.version = t.version;
    r.worker = std::move(t.worker);
    break;
  }
  r.marks.pre_end = t.pre_end;
  reqs_.erase(i);
  return false;
}

} // namespace dine
