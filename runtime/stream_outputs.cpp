#include "runtime/stream_outputs.hpp"

#include <cstring>

#include <msgpack.hpp>

#include "runtime/msgpack_reader.hpp"

namespace dine {

namespace {

struct byte_writer {
  std::vector<uint8_t>& buf;
  void write(const char* p, size_t n) {
    if (n == 0)
      return;
    auto off = buf.size();
    buf.resize(off + n);
    std::memcpy(buf.data() + off, p, n);
  }
};

using packer = msgpack::packer<byte_writer>;

void pack_str(packer& pk, const std::string& s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

} // namespace

std::vector<uint8_t> encode_chunk_outputs(const std::string& text,
                                          const std::vector<int32_t>& tokens) {
  std::vector<uint8_t> out;
  out.reserve(16 + text.size() + 5 * tokens.size());
  byte_writer w{out};
  packer pk{w};
  pk.pack_map(2);
  pack_str(pk, "text");
  pack_str(pk, text);
  pack_str(pk, "tokens");
  pk.pack_array(static_cast<uint32_t>(tokens.size()));
  for (auto t : tokens)
    pk.pack_int32(t);
  return out;
}

std::vector<uint8_t> stream_final_outputs(const std::vector<uint8_t>& outputs) {
  msgpack_reader rd{outputs.data(), outputs.size()};
  uint32_t n = 0;
  if (rd.peek() != msgpack_reader::kind::map || !rd.read_map_header(n))
    return outputs;
  std::vector<std::pair<const uint8_t*, const uint8_t*>> kept;
  for (uint32_t i = 0; i < n; ++i) {
    auto first = rd.pos();
    std::string_view key;
    if (!rd.read_str(key) || !rd.skip())
      return outputs;
    if (key != "text" && key != "tokens")
      kept.emplace_back(first, rd.pos());
  }
  if (!rd.ok() || !rd.at_end())
    return outputs;
  std::vector<uint8_t> out;
  byte_writer w{out};
  packer pk{w};
  pk.pack_map(static_cast<uint32_t>(kept.size()));
  for (auto [b, e] : kept)
    out.insert(out.end(), b, e);
  return out;
}

std::vector<uint8_t> cancelled_outputs(uint32_t completion_tokens) {
  std::vector<uint8_t> out;
  byte_writer w{out};
  packer pk{w};
  pk.pack_map(2);
  pack_str(pk, "finish_reason");
  pack_str(pk, "cancelled");
  pack_str(pk, "usage");
  pk.pack_map(1);
  pack_str(pk, "completion_tokens");
  pk.pack_uint32(completion_tokens);
  return out;
}

std::vector<uint8_t> cancel_op_outputs(bool found) {
  std::vector<uint8_t> out;
  byte_writer w{out};
  packer pk{w};
  pk.pack_map(1);
  pack_str(pk, "cancelled");
  pk.pack(found);
  return out;
}

} // namespace dine
