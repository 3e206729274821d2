#include "runtime/front_stats.hpp"

#include <msgpack.hpp>

namespace dine {

namespace {

/// Reads a msgpack map header: its size and length in bytes.
bool map_header(const std::vector<uint8_t>& b, uint32_t& n, size_t& len) {
  if (b.empty())
    return false;
  auto c = b[0];
  if (c >= 0x80 && c <= 0x8f) {
    n = c & 0x0f;
    len = 1;
    return true;
  }
  if (c == 0xde && b.size() >= 3) {
    n = (uint32_t{b[1]} << 8) | b[2];
    len = 3;
    return true;
  }
  if (c == 0xdf && b.size() >= 5) {
    n = (uint32_t{b[1]} << 24) | (uint32_t{b[2]} << 16) |
        (uint32_t{b[3]} << 8) | b[4];
    len = 5;
    return true;
  }
  return false;
}

} // namespace

bool add_front_stats(std::vector<uint8_t>& stats, const front_stats& s,
                     uint64_t buffered, uint64_t budget) {
  uint32_t n = 0;
  size_t len = 0;
  if (!map_header(stats, n, len) || n == UINT32_MAX)
    return false;
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  pk.pack_map(n + 1);
  auto header_len = buf.size();
  std::pair<const char*, uint64_t> fields[] = {
      {"open", s.open.load()},
      {"refused_connections", s.refused.load()},
      {"unauthorized", s.unauthorized.load()},
      {"forbidden", s.forbidden.load()},
      {"shed", s.shed.load()},
      {"frame_too_large", s.too_large.load()},
      {"handshake_timeouts", s.handshake_timeouts.load()},
      {"stalled_frames", s.stalled_frames.load()},
      {"buffered_bytes", buffered},
      {"memory_budget_bytes", budget},
  };
  pk.pack("client_port");
  pk.pack_map(static_cast<uint32_t>(std::size(fields)));
  for (auto& [k, v] : fields) {
    pk.pack(k);
    pk.pack_uint64(v);
  }
  std::vector<uint8_t> out;
  out.reserve(stats.size() + buf.size());
  out.insert(out.end(), buf.data(), buf.data() + header_len);
  out.insert(out.end(), stats.begin() + static_cast<long>(len), stats.end());
  out.insert(out.end(), buf.data() + header_len, buf.data() + buf.size());
  stats = std::move(out);
  return true;
}

} // namespace dine
