#include "reply_scan.hpp"

#include "runtime/msgpack_reader.hpp"

namespace dine::bench {

bool scan_reply(const char* body, size_t size, reply_summary& out) {
  msgpack_reader rd{reinterpret_cast<const uint8_t*>(body), size};
  uint32_t n = 0;
  if (!rd.read_map_header(n))
    return false;
  bool have_id = false;
  bool have_ok = false;
  out.code = {};
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key;
    if (!rd.read_str(key))
      return false;
    if (key == "id") {
      if (!rd.read_uint(out.id))
        return false;
      have_id = true;
    } else if (key == "ok") {
      if (!rd.read_bool(out.ok))
        return false;
      have_ok = true;
    } else if (key == "error") {
      uint32_t m = 0;
      if (!rd.read_map_header(m))
        return false;
      for (uint32_t j = 0; j < m; ++j) {
        std::string_view k;
        if (!rd.read_str(k))
          return false;
        if (k == "code" ? !rd.read_str(out.code) : !rd.skip())
          return false;
      }
    } else if (!rd.skip()) {
      return false;
    }
    if (have_id && have_ok && (out.ok || !out.code.empty()))
      return true;
  }
  return have_id && have_ok && rd.ok();
}

} // namespace dine::bench
