#include "http/api.hpp"

#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "http/auth.hpp"
#include "http/errors.hpp"
#include "runtime/trace_context.hpp"
#include "runtime/trace_id.hpp"

namespace dine::http {

using json = nlohmann::json;
namespace bhttp = boost::beast::http;

namespace {

constexpr size_t max_json_depth = 64;

} // namespace

uint64_t span_id(uint64_t id) {
  static const uint64_t seed = [] {
    std::random_device rd;
    return static_cast<uint64_t>(rd()) << 32 | rd();
  }();
  uint64_t z = id + seed + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

namespace {

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json outputs_json(const client_reply& r) {
  try {
    return json::from_msgpack(r.outputs);
  } catch (const std::exception&) {
    return nullptr; // not representable in JSON (non-string map keys)
  }
}

/// The wire reply's fields as JSON (docs/protocol.md, "Reply body").
json reply_json(const client_reply& r) {
  json out;
  out["id"] = r.id;
  out["ok"] = r.code == 0;
  if (r.code == 0)
    out["outputs"] = outputs_json(r);
  else
    out["error"] = {{"code", to_string(static_cast<errc>(r.code))},
                    {"message", r.message}};
  out["cached"] = r.cached;
  out["trace"] = trace_of(r);
  out["worker"] = r.worker;
  out["batch"] = r.batch;
  out["timings"] = {{"queue", r.times.queue_us},
                    {"infer", r.times.infer_us},
                    {"total", r.times.total_us}};
  return out;
}

} // namespace

exchange::fields traceparent_fields(const client_reply& r, uint64_t span,
                                    uint8_t flags) {
  auto trace = trace_of(r);
  if (!is_w3c_trace_id(trace))
    return {};
  return {{"traceparent", make_traceparent(trace, span, flags)}};
}

namespace {

unsigned reply_status(const client_reply& r) {
  return status_of(static_cast<errc>(r.code));
}

void error(const exchange_ptr& ex, unsigned status, const char* code,
           const std::string& msg) {
  ex->json(status, error_body(code, msg));
}

/// The value of `key` in a query string, or empty.
std::string query_value(const std::string& query, const std::string& key) {
  size_t pos = 0;
  while (pos <= query.size()) {
    auto end = query.find('&', pos);
    if (end == std::string::npos)
      end = query.size();
    auto kv = query.substr(pos, end - pos);
    auto eq = kv.find('=');
    if (kv.substr(0, eq) == key)
      return eq == std::string::npos ? "true" : kv.substr(eq + 1);
    pos = end + 1;
  }
  return {};
}

/// The request's `traceparent` header, if it is valid.
std::optional<trace_parent> traceparent_of(const request& req) {
  auto tp = req.find("traceparent");
  if (tp == req.end())
    return std::nullopt;
  return parse_traceparent({tp->value().data(), tp->value().size()});
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

} // namespace

bool json_depth_ok(const std::string& text, size_t max_depth) {
  size_t depth = 0;
  bool in_str = false;
  bool esc = false;
  for (char c : text) {
    if (in_str) {
      if (esc)
        esc = false;
      else if (c == '\\')
        esc = true;
      else if (c == '"')
        in_str = false;
    } else if (c == '"') {
      in_str = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

api::api(api_options opts, std::shared_ptr<backend> be)
    : opts_(std::move(opts)), be_(std::move(be)),
      jobs_(opts_.job_ttl, opts_.max_jobs) {
  // nop
}

void api::handle(request&& req, exchange_ptr ex) {
  auto target = std::string{req.target()};
  auto q = target.find('?');
  auto path = target.substr(0, q);
  auto query = q == std::string::npos ? std::string{} : target.substr(q + 1);
  auto method = req.method();
  auto is_get = method == bhttp::verb::get;
  auto is_post = method == bhttp::verb::post;
  key_match who{key_role::admin, 0};
  if (!authorized(req, path, ex, who))
    return;
  auto wrong_method = [&](const char* allowed) {
    error(ex, 405, "method_not_allowed",
          std::string{req.method_string()} + " " + path +
              " is not allowed (use " + allowed + ")");
  };
  if (path == "/health/live")
    return is_get ? ex->json(200, R"({"status":"live"})") : wrong_method("GET");
  if (path == "/health/ready")
    return is_get ? ready(ex) : wrong_method("GET");
  if (path == "/v1/models")
    return is_get ? models(ex) : wrong_method("GET");
  if (path == "/api/stats")
    return is_get ? stats(ex) : wrong_method("GET");
  if (path == "/v1/completions" || path == "/v1/chat/completions") {
    if (!is_post)
      return wrong_method("POST");
    return completion(path != "/v1/completions", req.body(),
                      traceparent_of(req), ex);
  }
  if (starts_with(path, "/v1/infer/") && path.size() > 10) {
    if (!is_post)
      return wrong_method("POST");
    return infer(path.substr(10), query, req.body(), traceparent_of(req), ex,
                 who);
  }
  if (starts_with(path, "/v1/requests/") && path.size() > 13) {
    if (!is_get && method != bhttp::verb::delete_)
      return wrong_method("GET or DELETE");
    return job(is_get ? "GET" : "DELETE", path.substr(13), ex, who);
  }
  if (path == "/metrics" && opts_.metrics) {
    if (!is_get)
      return wrong_method("GET");
    return ex->respond(200, "text/plain; version=0.0.4", opts_.metrics());
  }
  if (path == "/" || starts_with(path, "/dashboard/")) {
    if (!is_get)
      return wrong_method("GET");
    return file(path == "/" ? "index.html" : path.substr(11), ex);
  }
  error(ex, 404, "not_found", "no route " + path);
}

bool api::authorized(const request& req, const std::string& path,
                     const exchange_ptr& ex, key_match& who) {
  if (!opts_.keys || !opts_.keys->enabled())
    return true;
  auto op = route_op(path, req.method() == bhttp::verb::delete_);
  if (!op)
    return true;
  auto i = req.find(bhttp::field::authorization);
  auto key = i == req.end()
                 ? std::string_view{}
                 : bearer_key({i->value().data(), i->value().size()});
  who = opts_.keys->match(key);
  auto role = who.role;
  if (role == key_role::none) {
    auto msg = key.empty() ? "this node needs an API key: send "
                             "`Authorization: Bearer KEY`"
                           : "the API key is not valid";
    ex->respond(401, "application/json", error_body(errc::unauthorized, msg),
                {{"WWW-Authenticate", "Bearer realm=\"dine\""}});
    return false;
  }
  if (!api_keys::allows(role, *op)) {
    error(ex, 403, "forbidden",
          path + " needs an admin key (`" + to_string(*op) + "` op)");
    return false;
  }
  return true;
}

void api::infer(const std::string& model, const std::string& query,
                const std::string& body, std::optional<trace_parent> parent,
                exchange_ptr ex, const key_match& who) {
  if (!json_depth_ok(body, max_json_depth))
    return error(ex, 400, "bad_json",
                 "the body nests deeper than " +
                     std::to_string(max_json_depth) + " levels");
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded())
    return error(ex, 400, "bad_json", "the body is not valid JSON");
  if (!j.is_object())
    return error(ex, 400, "invalid_request", "the body must be a JSON object");
  client_request req;
  req.id = next_id();
  req.model = model;
  auto field = [&](const char* key, auto ok, const char* expects) -> bool {
    auto i = j.find(key);
    if (i == j.end() || i->is_null())
      return false;
    if (!ok(*i)) {
      error(ex, 400, "invalid_request",
            std::string{key} + " must be " + expects);
      throw 0; // unwound below
    }
    return true;
  };
  try {
    if (auto i = j.find("inputs"); i != j.end())
      req.inputs = json::to_msgpack(*i);
    else
      req.inputs = json::to_msgpack(json(nullptr));
    if (field(
            "key", [](auto& v) { return v.is_string(); }, "a string"))
      req.key = j["key"].template get<std::string>();
    auto trace_text = [](auto& v) {
      return v.is_string() &&
             valid_trace(v.template get_ref<const std::string&>());
    };
    if (field("trace", trace_text,
              "1-128 characters of [A-Za-z0-9._:-] (docs/protocol.md)"))
      req.trace = j["trace"].template get<std::string>();
    else if (parent)
      req.trace = parent->trace_id;
    if (field(
            "cache", [](auto& v) { return v.is_boolean(); }, "a boolean"))
      req.cache = j["cache"].template get<bool>();
    auto u32 = [](auto& v) {
      return v.is_number_unsigned() && v.template get<uint64_t>() <= UINT32_MAX;
    };
    if (field("deadline_ms", u32, "an unsigned 32-bit integer"))
      req.deadline_ms = j["deadline_ms"].template get<uint32_t>();
    if (field("version", u32, "an unsigned 32-bit integer"))
      req.version = j["version"].template get<uint32_t>();
    auto i32 = [](auto& v) {
      return v.is_number_integer() && v.template get<int64_t>() >= INT32_MIN &&
             v.template get<int64_t>() <= INT32_MAX;
    };
    if (field("priority", i32, "a signed 32-bit integer"))
      req.priority = j["priority"].template get<int32_t>();
  } catch (int) {
    return;
  }
  auto async = query_value(query, "async");
  if (async == "true" || async == "1") {
    auto id = req.id;
    if (!jobs_.add(id, job_table::clock::now(), who.key))
      return error(ex, 429, "overloaded",
                   "the node holds its maximum of " +
                       std::to_string(opts_.max_jobs) + " asynchronous jobs");
    auto self = shared_from_this();
    be_->submit(std::move(req), [self, id](client_reply&& r) {
      auto st = reply_status(r);
      self->jobs_.complete(id, st, dump(reply_json(r)),
                           job_table::clock::now());
    });
    json out = {{"id", std::to_string(id)}, {"status", "pending"}};
    return ex->json(202, dump(out));
  }
  auto span = span_id(req.id);
  auto flags = parent ? parent->flags : uint8_t{0};
  be_->submit(std::move(req), [ex, span, flags](client_reply&& r) {
    ex->respond(reply_status(r), "application/json", dump(reply_json(r)),
                traceparent_fields(r, span, flags));
  });
}

void api::job(const std::string& method, const std::string& id_text,
              exchange_ptr ex, const key_match& who) {
  uint64_t id = 0;
  try {
    size_t used = 0;
    id = std::stoull(id_text, &used);
    if (used != id_text.size())
      id = 0;
  } catch (const std::exception&) {
    id = 0;
  }
  auto now = job_table::clock::now();
  auto unknown = [&] {
    error(ex, 404, "unknown_request",
          "no request " + id_text + " (never made, or its result expired)");
  };
  if (id == 0)
    return unknown();
  if (method == "DELETE") {
    if (!jobs_.cancel(id, now, who)) // another key's job: as if none
      return unknown();
    // Stops the work where the coordinator can (streams); a result that
    // still arrives is dropped.
    client_request c;
    c.id = next_id();
    c.op = op_code::cancel;
    c.target = id;
    be_->submit(std::move(c), [](client_reply&&) {});
    auto j = jobs_.get(id, now, who);
    auto st = j && j->st == job_table::state::done ? "done" : "cancelled";
    return ex->json(200, dump(json{{"id", id_text}, {"status", st}}));
  }
  auto j = jobs_.get(id, now, who); // another key's job: as if none
  if (!j)
    return unknown();
  if (j->st == job_table::state::pending)
    return ex->json(200, dump(json{{"id", id_text}, {"status", "pending"}}));
  if (j->st == job_table::state::cancelled)
    return ex->json(200, dump(json{{"id", id_text}, {"status", "cancelled"}}));
  auto body = json::parse(j->body, nullptr, false);
  json out = {{"id", id_text}, {"status", "done"}, {"reply", body}};
  if (j->status != 200) // the error at the top, as every error body
    out["error"] = body.value("error", json::object());
  ex->json(j->status, dump(out));
}

void api::admin(op_code op, std::function<void(client_reply&&)> done) {
  client_request req;
  req.id = next_id();
  req.op = op;
  be_->submit(std::move(req), std::move(done));
}

void api::stats(exchange_ptr ex) {
  admin(op_code::stats, [ex](client_reply&& r) {
    if (r.code != 0)
      return ex->json(reply_status(r),
                      error_body(static_cast<errc>(r.code), r.message));
    ex->json(200, dump(outputs_json(r)));
  });
}

void api::models(exchange_ptr ex) {
  admin(op_code::models, [ex](client_reply&& r) {
    if (r.code != 0)
      return ex->json(reply_status(r),
                      error_body(static_cast<errc>(r.code), r.message));
    auto j = outputs_json(r);
    json data = json::array();
    if (j.is_object() && j["models"].is_array())
      for (auto& m : j["models"]) {
        json e = {{"id", m.value("name", "")},
                  {"object", "model"},
                  {"created", 0},
                  {"owned_by", "dine"}};
        e["backend"] = m.value("backend", "");
        e["workers"] = m.value("workers", json::array());
        data.push_back(std::move(e));
      }
    ex->json(200, dump(json{{"object", "list"}, {"data", data}}));
  });
}

void api::ready(exchange_ptr ex) {
  auto need = opts_.ready_models;
  admin(op_code::stats, [ex, need](client_reply&& r) {
    if (r.code != 0)
      return ex->json(503, error_body(static_cast<errc>(r.code), r.message));
    auto j = outputs_json(r);
    std::vector<std::string> healthy;
    std::set<std::string> served;
    if (j.is_object() && j["workers"].is_array())
      for (auto& w : j["workers"]) {
        if (w.value("ejected", false))
          continue;
        healthy.push_back(w.value("name", ""));
        if (w["models"].is_array())
          for (auto& m : w["models"])
            if (m.is_string())
              served.insert(m.get<std::string>());
      }
    std::vector<std::string> missing;
    for (auto& m : need)
      if (served.count(m) == 0)
        missing.push_back(m);
    if (healthy.empty() || !missing.empty()) {
      auto msg = healthy.empty() ? std::string{"no healthy worker"}
                                 : "no healthy worker serves " + missing[0];
      json out = json::parse(error_body(errc::unavailable, msg));
      out["status"] = "not_ready";
      out["workers"] = healthy;
      out["missing"] = missing;
      return ex->json(503, dump(out));
    }
    ex->json(200, dump(json{{"status", "ready"}, {"workers", healthy}}));
  });
}

void api::file(const std::string& path, exchange_ptr ex) {
  auto i = opts_.files.find(path);
  if (i == opts_.files.end()) {
    if (opts_.files.empty())
      return error(ex, 404, "not_found",
                   "no dashboard in this build (dashboard/ was empty)");
    return error(ex, 404, "not_found", "no dashboard file " + path);
  }
  auto& f = i->second;
  ex->respond(200, f.content_type,
              std::string{reinterpret_cast<const char*>(f.data), f.size});
}

} // namespace dine::http
