#pragma once

#include <cstddef>
#include <vector>

namespace dine {

/// Writes `out[off..]` to the non-blocking socket `fd` until it is all
/// written or the socket would block, advancing `off`. Returns 0 on success
/// (including "would block"), else the `errno` of the failed send.
int send_pending(int fd, const std::vector<char>& out, size_t& off);

} // namespace dine
