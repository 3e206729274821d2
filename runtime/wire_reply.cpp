#include "runtime/wire.hpp"

#include <cstring>
#include <string>
#include <string_view>

#include "messages/errc.hpp"
#include "runtime/frame.hpp"
#include "runtime/msgpack_reader.hpp"
#include "runtime/trace_id.hpp"

// Replies on the wire (docs/protocol.md): the server encodes them, clients
// decode them. Requests are in wire_request.cpp.

namespace dine {

namespace {

const uint8_t* bytes(const char* p) {
  return reinterpret_cast<const uint8_t*>(p);
}

} // namespace

namespace {

/// Writes msgpack into memory reserved beforehand: no bounds checks, no
/// per-field vector growth (a reply is about 25 small writes).
struct raw_writer {
  char* p;

  void bytes(const void* src, size_t n) {
    memcpy(p, src, n);
    p += n;
  }

  /// A key: a string literal shorter than 32 bytes (fixstr).
  template <size_t N>
  void key(const char (&s)[N]) {
    static_assert(N - 1 < 32);
    *p++ = static_cast<char>(0xa0 | (N - 1));
    bytes(s, N - 1);
  }

  void map(uint8_t n) { *p++ = static_cast<char>(0x80 | n); }

  void str(std::string_view s) {
    auto n = s.size();
    if (n < 32) {
      *p++ = static_cast<char>(0xa0 | n);
    } else if (n < 256) {
      *p++ = static_cast<char>(0xd9);
      *p++ = static_cast<char>(n);
    } else if (n < 65536) {
      *p++ = static_cast<char>(0xda);
      be(static_cast<uint16_t>(n));
    } else {
      *p++ = static_cast<char>(0xdb);
      be(static_cast<uint32_t>(n));
    }
    bytes(s.data(), n);
  }

  void uint(uint64_t x) {
    if (x < 128) {
      *p++ = static_cast<char>(x);
    } else if (x < 256) {
      *p++ = static_cast<char>(0xcc);
      *p++ = static_cast<char>(x);
    } else if (x < 65536) {
      *p++ = static_cast<char>(0xcd);
      be(static_cast<uint16_t>(x));
    } else if (x <= UINT32_MAX) {
      *p++ = static_cast<char>(0xce);
      be(static_cast<uint32_t>(x));
    } else {
      *p++ = static_cast<char>(0xcf);
      be(x);
    }
  }

  void boolean(bool x) { *p++ = static_cast<char>(x ? 0xc3 : 0xc2); }

  template <class T>
  void be(T x) {
    for (size_t i = sizeof(T); i-- > 0;)
      *p++ = static_cast<char>((x >> (8 * i)) & 0xff);
  }
};

} // namespace

void append_reply(std::vector<char>& buf, const client_reply& x) {
  bool ok = x.code == 0;
  const char* code = ok ? "" : to_string(static_cast<errc>(x.code));
  // Keys and fixed-size values take < 128 bytes; strings add at most
  // 5 header bytes each.
  // The nine timings add < 80 bytes; a stream's last frame adds `done`,
  // `ttft` and `tpot` (< 48 bytes).
  size_t fixed = x.frame == reply_frame::single ? 208 : 256;
  auto need = 4 + fixed + x.outputs.size() + x.message.size() + 5 +
              x.worker.size() + 5 + strlen(code) + 5 + 8 + x.trace.size() + 32 +
              5;
  auto off = buf.size();
  buf.resize(off + need);
  raw_writer w{buf.data() + off + 4};
  if (x.frame == reply_frame::chunk) {
    // A non-final frame of a stream: its tokens and nothing else.
    w.map(4);
    w.key("id");
    w.uint(x.id);
    w.key("ok");
    w.boolean(true);
    w.key("done");
    w.boolean(false);
    w.key("outputs");
    if (x.outputs.empty())
      w.bytes("\xc0", 1); // nil
    else
      w.bytes(x.outputs.data(), x.outputs.size());
    buf.resize(static_cast<size_t>(w.p - buf.data()));
    end_frame(buf, off);
    return;
  }
  bool last = x.frame == reply_frame::last;
  bool traced = !x.trace.empty() || x.trace_n != 0;
  w.map((last ? 8 : 7) + (traced ? 1 : 0));
  w.key("id");
  w.uint(x.id);
  w.key("ok");
  w.boolean(ok);
  if (last) {
    w.key("done");
    w.boolean(true);
  }
  if (ok) {
    w.key("outputs");
    if (x.outputs.empty())
      w.bytes("\xc0", 1); // nil
    else
      w.bytes(x.outputs.data(), x.outputs.size());
  } else {
    w.key("error");
    w.map(2);
    w.key("code");
    w.str(code);
    w.key("message");
    w.str(x.message);
  }
  w.key("cached");
  w.boolean(x.cached);
  w.key("worker");
  w.str(x.worker);
  w.key("batch");
  w.uint(x.batch);
  if (traced) {
    w.key("trace");
    if (!x.trace.empty()) {
      w.str(x.trace);
    } else { // generated: 32 hex digits, written in place
      *w.p++ = static_cast<char>(0xd9); // str8: fixstr ends at 31
      *w.p++ = static_cast<char>(32);
      trace_ids::write(x.trace_n, w.p);
      w.p += 32;
    }
  }
  w.key("timings");
  w.map(last ? 11 : 9);
  w.key("read");
  w.uint(x.times.read_us);
  w.key("preproc");
  w.uint(x.times.preproc_us);
  w.key("cache");
  w.uint(x.times.cache_us);
  w.key("queue");
  w.uint(x.times.queue_us);
  w.key("network");
  w.uint(x.times.network_us);
  w.key("infer");
  w.uint(x.times.infer_us);
  w.key("postproc");
  w.uint(x.times.postproc_us);
  w.key("write");
  w.uint(x.times.write_us);
  w.key("total");
  w.uint(x.times.total_us);
  if (last) {
    w.key("ttft");
    w.uint(x.times.ttft_us);
    w.key("tpot");
    w.uint(x.times.tpot_us);
  }
  buf.resize(static_cast<size_t>(w.p - buf.data()));
  end_frame(buf, off);
}

bool decode_reply(const char* body, size_t size, client_reply& out) {
  out = client_reply{};
  {
    msgpack_reader check{bytes(body), size, 64};
    if (!check.skip() || !check.at_end())
      return false;
  }
  msgpack_reader rd{bytes(body), size, 64};
  uint32_t n = 0;
  if (!rd.read_map_header(n))
    return false;
  bool have_id = false;
  bool ok = false;
  for (uint32_t i = 0; i < n && rd.ok(); ++i) {
    std::string_view key;
    if (!rd.read_str(key))
      return false;
    if (key == "id") {
      have_id = rd.read_uint(out.id);
    } else if (key == "ok") {
      rd.read_bool(ok);
    } else if (key == "outputs") {
      auto first = rd.pos();
      rd.skip();
      out.outputs.assign(first, rd.pos());
    } else if (key == "error") {
      uint32_t m = 0;
      if (!rd.read_map_header(m))
        return false;
      for (uint32_t j = 0; j < m && rd.ok(); ++j) {
        std::string_view k, v;
        rd.read_str(k);
        if (k == "code" && rd.read_str(v))
          out.code = static_cast<uint8_t>(errc_from_string(std::string{v}));
        else if (k == "message" && rd.read_str(v))
          out.message.assign(v.data(), v.size());
        else if (k != "code" && k != "message")
          rd.skip();
      }
    } else if (key == "done") {
      bool done = false;
      rd.read_bool(done);
      out.frame = done ? reply_frame::last : reply_frame::chunk;
    } else if (key == "cached") {
      rd.read_bool(out.cached);
    } else if (key == "worker") {
      std::string_view s;
      if (rd.read_str(s))
        out.worker.assign(s.data(), s.size());
    } else if (key == "trace") {
      std::string_view s;
      if (rd.read_str(s))
        out.trace.assign(s.data(), s.size());
    } else if (key == "batch") {
      uint64_t b = 0;
      rd.read_uint(b);
      out.batch = static_cast<uint32_t>(b);
    } else if (key == "timings") {
      uint32_t m = 0;
      if (!rd.read_map_header(m))
        return false;
      for (uint32_t j = 0; j < m && rd.ok(); ++j) {
        std::string_view k;
        uint64_t v = 0;
        rd.read_str(k);
        rd.read_uint(v);
        auto u = static_cast<uint32_t>(v);
        if (k == "read")
          out.times.read_us = u;
        else if (k == "preproc")
          out.times.preproc_us = u;
        else if (k == "cache")
          out.times.cache_us = u;
        else if (k == "network")
          out.times.network_us = u;
        else if (k == "postproc")
          out.times.postproc_us = u;
        else if (k == "write")
          out.times.write_us = u;
        else if (k == "queue")
          out.times.queue_us = u;
        else if (k == "infer")
          out.times.infer_us = u;
        else if (k == "total")
          out.times.total_us = u;
        else if (k == "ttft")
          out.times.ttft_us = u;
        else if (k == "tpot")
          out.times.tpot_us = u;
      }
    } else {
      rd.skip();
    }
  }
  if (!rd.ok() || !have_id)
    return false;
  if (ok)
    out.code = 0;
  else if (out.code == 0)
    out.code = static_cast<uint8_t>(errc::internal);
  return true;
}

} // namespace dine
