#include "convert.hpp"

#include <cstdio>

#include "messages/errc.hpp"

namespace dine::client {

namespace {

using json = nlohmann::json;

bool get_u32(const json& v, uint32_t& out) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
      v.get<uint64_t>() > UINT32_MAX)
    return false;
  out = static_cast<uint32_t>(v.get<uint64_t>());
  return true;
}

std::string to_hex(const std::vector<uint8_t>& xs) {
  std::string out;
  out.reserve(xs.size() * 2);
  char buf[3];
  for (auto x : xs) {
    snprintf(buf, sizeof(buf), "%02x", x);
    out += buf;
  }
  return out;
}

} // namespace

std::string make_request(const json& fields, const options& opts, uint64_t id,
                         client_request& out) {
  out = client_request{};
  out.id = id;
  out.op = opts.op;
  out.model = opts.model;
  out.key = opts.key;
  out.version = opts.version;
  out.deadline_ms = opts.deadline_ms;
  out.priority = opts.priority;
  out.cache = opts.cache;
  out.stream = opts.stream;
  out.target = opts.target;
  if (!fields.is_object())
    return "a request must be a JSON object";
  const json* inputs = opts.inputs ? &*opts.inputs : nullptr;
  for (auto& [name, v] : fields.items()) {
    auto bad = [&name = name](const char* what) {
      return "field `" + name + "` must be " + what;
    };
    if (name == "op") {
      if (!v.is_string() || !parse_op(v.get<std::string>(), out.op))
        return bad("one of infer, health, models, stats, fault");
    } else if (name == "model") {
      if (!v.is_string() || v.get<std::string>().empty())
        return bad("a non-empty string");
      out.model = v.get<std::string>();
    } else if (name == "inputs") {
      inputs = &v;
    } else if (name == "key") {
      if (!v.is_string())
        return bad("a string");
      out.key = v.get<std::string>();
    } else if (name == "version") {
      if (!get_u32(v, out.version))
        return bad("an unsigned 32-bit integer");
    } else if (name == "deadline_ms") {
      if (!get_u32(v, out.deadline_ms))
        return bad("an unsigned 32-bit integer");
    } else if (name == "priority") {
      if (!v.is_number_integer() || v.get<int64_t>() < INT32_MIN ||
          v.get<int64_t>() > INT32_MAX ||
          (v.is_number_unsigned() && v.get<uint64_t>() > INT32_MAX))
        return bad("a 32-bit integer");
      out.priority = static_cast<int32_t>(v.get<int64_t>());
    } else if (name == "cache") {
      if (!v.is_boolean())
        return bad("a boolean");
      out.cache = v.get<bool>();
    } else {
      return "unknown field `" + name + "`";
    }
  }
  if (out.op == op_code::infer && out.model.empty())
    return "no model: give --model or a `model` field";
  if (inputs != nullptr)
    out.inputs = json::to_msgpack(*inputs);
  return {};
}

nlohmann::ordered_json reply_to_json(const client_reply& x) {
  nlohmann::ordered_json out;
  out["id"] = x.id;
  out["ok"] = x.code == 0;
  if (x.frame != reply_frame::single)
    out["done"] = x.frame == reply_frame::last;
  if (x.code == 0) {
    try {
      out["outputs"] = nlohmann::ordered_json::from_msgpack(x.outputs);
    } catch (const std::exception&) {
      // Not representable in JSON (e.g. non-string map keys).
      out["outputs_msgpack_hex"] = to_hex(x.outputs);
    }
  } else {
    out["error"] = {{"code", to_string(static_cast<errc>(x.code))},
                    {"message", x.message}};
  }
  out["cached"] = x.cached;
  out["worker"] = x.worker;
  out["batch"] = x.batch;
  auto& t = x.times;
  out["timings"] = {{"read", t.read_us},         {"preproc", t.preproc_us},
                    {"cache", t.cache_us},       {"queue", t.queue_us},
                    {"network", t.network_us},   {"infer", t.infer_us},
                    {"postproc", t.postproc_us}, {"write", t.write_us},
                    {"total", t.total_us}};
  if (x.frame == reply_frame::last) {
    out["timings"]["ttft"] = x.times.ttft_us;
    out["timings"]["tpot"] = x.times.tpot_us;
  }
  return out;
}

std::string to_line(const nlohmann::ordered_json& x) {
  return x.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace dine::client
