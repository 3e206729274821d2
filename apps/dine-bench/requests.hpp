#pragma once

// Pre-built request frames: encoded once with append_request, then copied
// and patched with a fresh id for every request sent.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <endian.h>

#include "options.hpp"

namespace dine::bench {

/// One complete request frame whose 8-byte id can be patched in place.
struct request_template {
  std::vector<char> frame; ///< Length prefix + body.
  size_t id_offset = 0;    ///< Offset of the big-endian id in `frame`.

  /// Appends this frame with id `id` to `out`.
  void append(std::vector<char>& out, uint64_t id) const {
    auto pos = out.size();
    out.insert(out.end(), frame.begin(), frame.end());
    auto be = htobe64(id);
    memcpy(out.data() + pos + id_offset, &be, 8);
  }
};

/// Builds the templates for `opts`: one per key when `key_spread` is set
/// (request i uses template i mod N), else one. Returns an empty string on
/// success, else what is wrong (e.g. invalid `--inputs`).
std::string build_templates(const options& opts,
                            std::vector<request_template>& out);

} // namespace dine::bench
