#include "requests.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "runtime/wire.hpp"

namespace dine::bench {

namespace {

/// Encodes `req` with the 8-byte id marker and locates the id.
std::string encode(const client_request& req, request_template& out) {
  static constexpr char marker[] = "\xa2id\xcf\xff\xff\xff\xff\xff\xff\xff\xff";
  constexpr size_t marker_len = sizeof(marker) - 1;
  out.frame.clear();
  append_request(out.frame, req);
  auto i = std::search(out.frame.begin(), out.frame.end(), marker,
                       marker + marker_len);
  if (i == out.frame.end())
    return "internal error: id marker not found in the request template";
  out.id_offset = static_cast<size_t>(i - out.frame.begin()) + 4;
  return {};
}

/// A bin of `n` bytes as msgpack.
std::vector<uint8_t> padding(size_t n) {
  std::vector<uint8_t> out;
  if (n < 256) {
    out = {0xc4, static_cast<uint8_t>(n)};
  } else if (n < 65536) {
    out = {0xc5, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  } else {
    out = {0xc6, static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
           static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  }
  for (size_t i = 0; i < n; ++i)
    out.push_back(static_cast<uint8_t>('a' + i % 26));
  return out;
}

/// Sets `req.inputs` to a bin so that the body has about `target` bytes.
std::string pad_to(client_request& req, size_t target, request_template& t) {
  size_t pad = 0;
  for (int round = 0; round < 8; ++round) {
    req.inputs = padding(pad);
    if (auto err = encode(req, t); !err.empty())
      return err;
    auto body = t.frame.size() - 4;
    if (body == target || (body > target && pad == 0))
      break;
    if (body < target)
      pad += target - body;
    else
      pad -= std::min(pad, body - target);
  }
  return {};
}

} // namespace

std::string build_templates(const options& opts,
                            std::vector<request_template>& out) {
  client_request req;
  req.id = ~uint64_t{0}; // forces the 8-byte 0xcf encoding
  req.op = opts.op;
  req.model = opts.model;
  req.cache = opts.cache;
  req.deadline_ms = opts.deadline_ms;
  std::vector<uint8_t> inputs;
  if (!opts.inputs_json.empty()) {
    try {
      inputs =
          nlohmann::json::to_msgpack(nlohmann::json::parse(opts.inputs_json));
    } catch (const std::exception& ex) {
      return std::string{"--inputs is not valid JSON: "} + ex.what();
    }
  }
  auto n = std::max<size_t>(opts.key_spread, 1);
  out.clear();
  out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (opts.key_spread > 0)
      req.key = "k" + std::to_string(i);
    std::string err;
    if (!inputs.empty()) {
      req.inputs = inputs;
      err = encode(req, out[i]);
    } else if (opts.op == op_code::infer) {
      err = pad_to(req, opts.payload_bytes, out[i]);
    } else {
      err = encode(req, out[i]);
    }
    if (!err.empty())
      return err;
  }
  return {};
}

} // namespace dine::bench
