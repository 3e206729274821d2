#include "http/openai.hpp"

namespace dine::http {

using json = nlohmann::json;

std::string chat_prompt(const json& messages, std::string& err) {
  if (!messages.is_array() || messages.empty()) {
    err = "messages must be a non-empty array";
    return {};
  }
  std::string out;
  for (auto& m : messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      err = "each message needs a string role";
      return {};
    }
    auto role = m["role"].get<std::string>();
    if (role != "system" && role != "user" && role != "assistant") {
      err = "unsupported role '" + role + "' (system, user or assistant)";
      return {};
    }
    auto c = m.find("content");
    if (c == m.end() || !c->is_string()) {
      err = "each message needs a string content";
      return {};
    }
    out += "<|" + role + "|>\n" + c->get<std::string>() + "\n";
  }
  out += "<|assistant|>\n";
  return out;
}

namespace {

/// Copies `key` if present and of a type `ok` accepts.
template <class Pred>
bool copy_field(const json& body, json& inputs, const char* key, Pred ok,
                std::string& err, const char* expects) {
  auto i = body.find(key);
  if (i == body.end() || i->is_null())
    return true;
  if (!ok(*i)) {
    err = std::string{key} + " must be " + expects;
    return false;
  }
  inputs[key] = *i;
  return true;
}

} // namespace

completion_request parse_completion(const json& body, completion_kind kind) {
  completion_request r;
  if (!body.is_object()) {
    r.error = "the body must be a JSON object";
    return r;
  }
  auto m = body.find("model");
  if (m == body.end() || !m->is_string() || m->get<std::string>().empty()) {
    r.error = "model must be a non-empty string";
    return r;
  }
  r.model = m->get<std::string>();
  if (auto s = body.find("stream"); s != body.end() && !s->is_null()) {
    if (!s->is_boolean()) {
      r.error = "stream must be a boolean";
      return r;
    }
    r.stream = s->get<bool>();
  }
  if (auto n = body.find("n"); n != body.end() && !n->is_null() &&
                               (!n->is_number_integer() || *n != 1)) {
    r.error = "only n = 1 is supported";
    return r;
  }
  r.inputs = json::object();
  if (kind == completion_kind::chat) {
    auto p = chat_prompt(body.value("messages", json{}), r.error);
    if (!r.error.empty())
      return r;
    r.inputs["prompt"] = p;
  } else {
    auto p = body.find("prompt");
    if (p == body.end()) {
      r.error = "prompt is required";
      return r;
    }
    if (p->is_array() && p->size() == 1 && (*p)[0].is_string())
      r.inputs["prompt"] = (*p)[0];
    else if (p->is_string())
      r.inputs["prompt"] = *p;
    else {
      r.error = "prompt must be a string (or an array of one string)";
      return r;
    }
  }
  auto is_uint = [](const json& v) { return v.is_number_unsigned(); };
  auto is_num = [](const json& v) { return v.is_number(); };
  auto is_stop = [](const json& v) {
    if (v.is_string())
      return true;
    if (!v.is_array())
      return false;
    for (auto& x : v)
      if (!x.is_string())
        return false;
    return true;
  };
  if (!copy_field(body, r.inputs, "max_tokens", is_uint, r.error,
                  "a non-negative integer") ||
      !copy_field(body, r.inputs, "temperature", is_num, r.error, "a number") ||
      !copy_field(body, r.inputs, "top_p", is_num, r.error, "a number") ||
      !copy_field(body, r.inputs, "seed", is_uint, r.error,
                  "a non-negative integer") ||
      !copy_field(body, r.inputs, "stop", is_stop, r.error,
                  "a string or an array of strings"))
    return r;
  if (kind == completion_kind::text && !r.inputs.contains("max_tokens"))
    r.inputs["max_tokens"] = 16; // OpenAI's default for completions
  if (auto s = r.inputs.find("stop");
      s != r.inputs.end() && s->is_array() && s->empty())
    r.inputs.erase(s);
  return r;
}

json openai_usage(const json& usage) {
  uint64_t p = 0;
  uint64_t c = 0;
  if (usage.is_object()) {
    if (auto i = usage.find("prompt_tokens");
        i != usage.end() && i->is_number_unsigned())
      p = i->get<uint64_t>();
    if (auto i = usage.find("completion_tokens");
        i != usage.end() && i->is_number_unsigned())
      c = i->get<uint64_t>();
  }
  return {
      {"prompt_tokens", p}, {"completion_tokens", c}, {"total_tokens", p + c}};
}

namespace {

std::string finish_of(const json& outputs) {
  auto f = outputs.find("finish_reason");
  if (f == outputs.end() || !f->is_string())
    return "stop";
  auto s = f->get<std::string>();
  return s == "length" ? "length" : "stop"; // cancelled: nobody listens
}

} // namespace

json completion_response(completion_kind kind, const std::string& id,
                         const std::string& model, int64_t created,
                         const json& outputs) {
  std::string text;
  if (auto t = outputs.find("text"); t != outputs.end() && t->is_string())
    text = t->get<std::string>();
  json choice = {{"index", 0}, {"finish_reason", finish_of(outputs)}};
  if (kind == completion_kind::chat) {
    choice["message"] = {{"role", "assistant"}, {"content", text}};
    choice["logprobs"] = nullptr;
  } else {
    choice["text"] = text;
    choice["logprobs"] = nullptr;
  }
  return {{"id", id},
          {"object", kind == completion_kind::chat ? "chat.completion"
                                                   : "text_completion"},
          {"created", created},
          {"model", model},
          {"choices", json::array({choice})},
          {"usage", openai_usage(outputs.value("usage", json{}))}};
}

json completion_chunk(completion_kind kind, const std::string& id,
                      const std::string& model, int64_t created,
                      const std::string& text, const std::string& finish_reason,
                      bool first) {
  json choice = {{"index", 0}, {"logprobs", nullptr}};
  choice["finish_reason"] =
      finish_reason.empty() ? json(nullptr) : json(finish_reason);
  if (kind == completion_kind::chat) {
    json delta = json::object();
    if (first)
      delta["role"] = "assistant";
    if (!text.empty() || (first && finish_reason.empty()))
      delta["content"] = text;
    choice["delta"] = delta;
  } else {
    choice["text"] = text;
  }
  return {{"id", id},
          {"object", kind == completion_kind::chat ? "chat.completion.chunk"
                                                   : "text_completion"},
          {"created", created},
          {"model", model},
          {"choices", json::array({choice})}};
}

} // namespace dine::http
