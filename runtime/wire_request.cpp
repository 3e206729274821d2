#include "runtime/wire.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "messages/errc.hpp"
#include "runtime/frame.hpp"
#include "runtime/msgpack_reader.hpp"
#include "runtime/trace_context.hpp"
#include "runtime/trace_id.hpp"

// Requests on the wire (docs/protocol.md): the server decodes them,
// clients encode them. Replies are in wire_reply.cpp.

namespace dine {

namespace {

/// Lets a msgpack::packer write straight into a frame buffer.
struct vec_writer {
  std::vector<char>& buf;
  void write(const char* p, size_t n) { buf.insert(buf.end(), p, p + n); }
};

using packer = msgpack::packer<vec_writer>;

void pack_str(packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

bool to_op(std::string_view s, op_code& op) {
  if (s == "infer")
    op = op_code::infer;
  else if (s == "health")
    op = op_code::health;
  else if (s == "models")
    op = op_code::models;
  else if (s == "stats")
    op = op_code::stats;
  else if (s == "fault")
    op = op_code::fault;
  else if (s == "cancel")
    op = op_code::cancel;
  else if (s == "hello")
    op = op_code::hello;
  else
    return false;
  return true;
}

const uint8_t* bytes(const char* p) {
  return reinterpret_cast<const uint8_t*>(p);
}

/// Records the first error of a request; later ones would only hide it.
void set_error(client_request& out, errc code, std::string msg) {
  if (out.error == 0) {
    out.error = static_cast<uint8_t>(code);
    out.error_message = std::move(msg);
  }
}

/// Reads the `n` entries of a request map into `out`. Wrong types and bad
/// values become errors in `out`; a malformed body leaves `rd.ok()` false.
void read_fields(msgpack_reader& rd, uint32_t n, client_request& out,
                 const decode_limits& limits) {
  bool have_model = false;
  bool have_op_error = false;
  std::string bad_op;
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key;
    auto key_start = rd;
    if (!rd.read_str(key)) {
      // Skip the entry and go on, so that a later `id` is still read.
      set_error(out, errc::invalid_request, "map keys must be strings");
      rd = key_start;
      rd.skip();
      rd.skip();
      continue;
    }
    auto wrong_type = [&](const char* what) {
      // `rd` was rewound to the value's start: skip it and go on.
      set_error(out, errc::invalid_request,
                "field `" + std::string{key} + "` must be " + what);
      rd.skip();
    };
    auto start = rd;
    if (key == "id") {
      uint64_t x;
      if (rd.read_uint(x))
        out.id = x;
      else
        rd = start, wrong_type("an unsigned integer");
    } else if (key == "op") {
      std::string_view s;
      if (!rd.read_str(s))
        rd = start, wrong_type("a string");
      else if (!to_op(s, out.op))
        have_op_error = true, bad_op = std::string{s.substr(0, 64)};
    } else if (key == "model") {
      std::string_view s;
      if (!rd.read_str(s))
        rd = start, wrong_type("a string");
      else if (s.empty())
        ; // same as absent
      else if (s.size() > limits.max_model_len)
        set_error(out, errc::invalid_request,
                  "field `model` must have at most " +
                      std::to_string(limits.max_model_len) + " bytes");
      else
        out.model.assign(s.data(), s.size()), have_model = true;
    } else if (key == "version") {
      uint64_t x;
      if (!rd.read_uint(x) || x > UINT32_MAX)
        rd = start, wrong_type("an unsigned 32-bit integer");
      else
        out.version = static_cast<uint32_t>(x);
    } else if (key == "inputs") {
      auto first = rd.pos();
      rd.skip(); // validated in pass 1
      out.inputs.assign(first, rd.pos());
    } else if (key == "key") {
      std::string_view s;
      if (!rd.read_str(s))
        rd = start, wrong_type("a string");
      else if (s.size() > limits.max_key_len)
        set_error(out, errc::invalid_request,
                  "field `key` is longer than " +
                      std::to_string(limits.max_key_len) + " bytes");
      else
        out.key.assign(s.data(), s.size());
    } else if (key == "auth") {
      std::string_view s;
      if (!rd.read_str(s))
        rd = start, wrong_type("a string");
      else if (s.size() > limits.max_key_len)
        set_error(out, errc::invalid_request,
                  "field `auth` is longer than " +
                      std::to_string(limits.max_key_len) + " bytes");
      else
        out.auth.assign(s.data(), s.size());
    } else if (key == "cache") {
      if (!rd.read_bool(out.cache))
        rd = start, wrong_type("a boolean");
    } else if (key == "deadline_ms") {
      uint64_t x;
      if (!rd.read_uint(x) || x > UINT32_MAX)
        rd = start, wrong_type("an unsigned 32-bit integer");
      else
        out.deadline_ms = static_cast<uint32_t>(x);
    } else if (key == "stream") {
      if (!rd.read_bool(out.stream))
        rd = start, wrong_type("a boolean");
    } else if (key == "target") {
      uint64_t x;
      if (rd.read_uint(x))
        out.target = x;
      else
        rd = start, wrong_type("an unsigned integer");
    } else if (key == "trace") {
      std::string_view s;
      if (!rd.read_str(s))
        rd = start, wrong_type("a string");
      else if (!valid_trace(s))
        set_error(out, errc::invalid_request,
                  "field `trace` must be 1-128 characters of "
                  "[A-Za-z0-9._:-]");
      else
        out.trace.assign(s.data(), s.size());
    } else if (key == "priority") {
      int64_t x;
      if (!rd.read_int(x) || x < INT32_MIN || x > INT32_MAX)
        rd = start, wrong_type("a 32-bit integer");
      else
        out.priority = static_cast<int32_t>(x);
    } else {
      rd.skip(); // unknown keys are ignored for forward compatibility
    }
  }
  if (have_op_error)
    set_error(out, errc::unknown_op, "unknown op `" + bad_op + "`");
  if (out.op == op_code::infer && !have_model)
    set_error(out, errc::invalid_request, "missing field `model`");
  if (out.op == op_code::infer && out.inputs.empty())
    out.inputs.push_back(static_cast<uint8_t>(0xc0)); // nil
}

} // namespace

void decode_request(const char* body, size_t size, client_request& out,
                    const decode_limits& limits) {
  out = client_request{};
  decode_new_request(body, size, out, limits);
}

void decode_new_request(const char* body, size_t size, client_request& out,
                        const decode_limits& limits) {
  // Fast path: one pass over a well-formed map. The reader's depth limit
  // is one less because it starts inside the top-level map.
  if (size > 0 && limits.max_depth > 0) {
    msgpack_reader rd{bytes(body), size, limits.max_depth - 1};
    uint32_t n = 0;
    if (rd.read_map_header(n)) {
      read_fields(rd, n, out, limits);
      if (rd.ok() && rd.at_end())
        return;
    }
    out = client_request{}; // malformed: the slow path says why
  }
  // Pass 1: the whole body must be one well-formed, bounded value.
  {
    msgpack_reader check{bytes(body), size, limits.max_depth};
    if (size == 0 || !check.skip() || !check.at_end()) {
      set_error(out, errc::invalid_request,
                check.too_deep()
                    ? "nesting deeper than " + std::to_string(limits.max_depth)
                    : std::string{"body is not one well-formed "
                                  "msgpack value"});
      // Best effort: echo the id if it precedes the broken part.
      msgpack_reader rd{bytes(body), size, limits.max_depth};
      uint32_t n = 0;
      if (rd.read_map_header(n)) {
        for (uint32_t i = 0; i < n; ++i) {
          std::string_view key;
          uint64_t id = 0;
          if (!rd.read_str(key))
            break;
          if (key == "id") {
            if (rd.read_uint(id))
              out.id = id;
            break;
          }
          if (!rd.skip())
            break;
        }
      }
      return;
    }
  }
  // Pass 2: read the fields; well-formedness is known now.
  msgpack_reader rd{bytes(body), size, limits.max_depth};
  uint32_t n = 0;
  if (!rd.read_map_header(n)) {
    set_error(out, errc::invalid_request, "body is not a msgpack map");
    return;
  }
  read_fields(rd, n, out, limits);
}

void append_request(std::vector<char>& buf, const client_request& x) {
  auto off = begin_frame(buf);
  vec_writer w{buf};
  packer pk{w};
  uint32_t n = 2 + (x.model.empty() ? 0 : 1) + (x.inputs.empty() ? 0 : 1) +
               (x.version ? 1 : 0) + (x.key.empty() ? 0 : 1) +
               (x.cache ? 0 : 1) + (x.deadline_ms ? 1 : 0) +
               (x.priority ? 1 : 0) + (x.stream ? 1 : 0) + (x.target ? 1 : 0) +
               (x.auth.empty() ? 0 : 1) + (x.trace.empty() ? 0 : 1);
  pk.pack_map(n);
  pack_str(pk, "id");
  pk.pack_uint64(x.id);
  pack_str(pk, "op");
  pack_str(pk, to_string(x.op));
  if (!x.model.empty()) {
    pack_str(pk, "model");
    pack_str(pk, x.model);
  }
  if (!x.inputs.empty()) {
    pack_str(pk, "inputs");
    w.write(reinterpret_cast<const char*>(x.inputs.data()), x.inputs.size());
  }
  if (x.version) {
    pack_str(pk, "version");
    pk.pack_uint32(x.version);
  }
  if (!x.key.empty()) {
    pack_str(pk, "key");
    pack_str(pk, x.key);
  }
  if (!x.cache) {
    pack_str(pk, "cache");
    pk.pack_false();
  }
  if (x.deadline_ms) {
    pack_str(pk, "deadline_ms");
    pk.pack_uint32(x.deadline_ms);
  }
  if (x.priority) {
    pack_str(pk, "priority");
    pk.pack_int32(x.priority);
  }
  if (x.stream) {
    pack_str(pk, "stream");
    pk.pack_true();
  }
  if (x.target) {
    pack_str(pk, "target");
    pk.pack_uint64(x.target);
  }
  if (!x.auth.empty()) {
    pack_str(pk, "auth");
    pack_str(pk, x.auth);
  }
  if (!x.trace.empty()) {
    pack_str(pk, "trace");
    pack_str(pk, x.trace);
  }
  end_frame(buf, off);
}

} // namespace dine
