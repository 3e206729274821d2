#pragma once

#include <cstddef>
#include <vector>

#include <sys/types.h>

typedef struct ssl_st SSL;

namespace dine {

/// Writes `out[off..]` to the non-blocking socket `fd` until it is all
/// written or the socket would block, advancing `off`. Returns 0 on success
/// (including "would block"), else the `errno` of the failed send.
int send_pending(int fd, const std::vector<char>& out, size_t& off);

/// As above through the TLS session `ssl` on `fd` (plain `send` if null);
/// a TLS error is `EIO`.
int send_pending(SSL* ssl, int fd, const std::vector<char>& out, size_t& off);

/// Reads up to `n` bytes from the non-blocking socket `fd`, through `ssl`
/// if not null. Returns the bytes read, 0 when the peer closed, or -1 with
/// `errno` set (`EAGAIN`: nothing to read now, also while TLS waits for
/// the socket; `EIO`: a TLS error). With TLS, read until `EAGAIN`: bytes
/// the session already decrypted do not wake epoll.
ssize_t recv_some(SSL* ssl, int fd, char* buf, size_t n);

} // namespace dine
