// The OpenAI-compatible completion routes of http::api (docs/http.md).

#include "http/api.hpp"

#include <ctime>

#include <nlohmann/json.hpp>

#include "http/errors.hpp"
#include "http/openai.hpp"

namespace dine::http {

using json = nlohmann::json;

namespace {

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json outputs_of(const client_reply& r) {
  try {
    return json::from_msgpack(r.outputs);
  } catch (const std::exception&) {
    return nullptr;
  }
}

/// A stream's progress; touched only by its reply callback.
struct stream_state {
  bool started = false;
};

} // namespace

void api::completion(bool chat, const std::string& body,
                     std::optional<trace_parent> parent, exchange_ptr ex) {
  if (!json_depth_ok(body, 64))
    return ex->json(400, error_body("bad_json", "the body nests too deep"));
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded())
    return ex->json(400, error_body("bad_json", "the body is not valid JSON"));
  auto kind = chat ? completion_kind::chat : completion_kind::text;
  auto c = parse_completion(j, kind);
  if (!c.error.empty())
    return ex->json(400, error_body("invalid_request", c.error));
  client_request req;
  req.id = next_id();
  req.model = c.model;
  req.inputs = json::to_msgpack(c.inputs);
  req.stream = c.stream;
  req.cache = !c.stream;
  if (parent)
    req.trace = parent->trace_id;
  auto span = span_id(req.id);
  auto flags = parent ? parent->flags : uint8_t{0};
  auto oid = std::string{chat ? "chatcmpl-" : "cmpl-"} + std::to_string(req.id);
  auto created = static_cast<int64_t>(std::time(nullptr));
  auto model = c.model;
  if (!c.stream) {
    be_->submit(std::move(req), [=](client_reply&& r) {
      if (r.code != 0)
        return ex->respond(status_of(static_cast<errc>(r.code)),
                           "application/json",
                           error_body(static_cast<errc>(r.code), r.message),
                           traceparent_fields(r, span, flags));
      auto out = outputs_of(r);
      if (!out.is_object() || !out.contains("text"))
        return ex->json(400, error_body("not_generative",
                                        "model " + model +
                                            " does not generate text (use "
                                            "/v1/infer/" +
                                            model + ")"));
      ex->respond(200, "application/json",
                  dump(completion_response(kind, oid, model, created, out)),
                  traceparent_fields(r, span, flags));
    });
    return;
  }
  // A client that goes away cancels its generation (the coordinator frees
  // the sequence at its next step).
  auto id = req.id;
  auto be = be_;
  auto self = shared_from_this();
  ex->on_close([self, be, id] {
    client_request cr;
    cr.id = self->next_id();
    cr.op = op_code::cancel;
    cr.target = id;
    be->submit(std::move(cr), [](client_reply&&) {});
  });
  auto st = std::make_shared<stream_state>();
  be_->submit(std::move(req), [=](client_reply&& r) {
    if (r.code != 0) {
      auto code = static_cast<errc>(r.code);
      if (!st->started)
        return ex->json(status_of(code), error_body(code, r.message));
      ex->event(error_body(code, r.message)); // after chunks: in the stream
      ex->event("[DONE]");
      return ex->end_events();
    }
    bool first = !st->started;
    if (first) {
      st->started = true;
      ex->start_events();
    }
    auto out = outputs_of(r);
    if (r.frame == reply_frame::chunk) {
      auto text = out.is_object() ? out.value("text", "") : std::string{};
      ex->event(
          dump(completion_chunk(kind, oid, model, created, text, {}, first)));
      return;
    }
    // The final frame: finish_reason and usage (its text came in chunks).
    auto fr = out.is_object() ? out.value("finish_reason", "stop") : "stop";
    if (fr != "length")
      fr = "stop";
    auto last = completion_chunk(kind, oid, model, created, {}, fr, first);
    last["usage"] =
        openai_usage(out.is_object() ? out.value("usage", json{}) : json{});
    ex->event(dump(last));
    ex->event("[DONE]");
    ex->end_events();
  });
}

} // namespace dine::http
