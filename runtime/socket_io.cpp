#include "runtime/socket_io.hpp"

#include <sys/socket.h>

#include <cerrno>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace dine {

int send_pending(int fd, const std::vector<char>& out, size_t& off) {
  while (off < out.size()) {
    auto n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n >= 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return 0;
    return errno;
  }
  return 0;
}

int send_pending(SSL* ssl, int fd, const std::vector<char>& out, size_t& off) {
  if (ssl == nullptr)
    return send_pending(fd, out, off);
  while (off < out.size()) {
    ERR_clear_error();
    auto left = out.size() - off;
    auto n = SSL_write(ssl, out.data() + off,
                       static_cast<int>(left > (1u << 30) ? (1u << 30) : left));
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    auto e = SSL_get_error(ssl, n);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
      return 0;
    return e == SSL_ERROR_SYSCALL && errno != 0 ? errno : EIO;
  }
  return 0;
}

ssize_t recv_some(SSL* ssl, int fd, char* buf, size_t n) {
  if (ssl == nullptr)
    return ::recv(fd, buf, n, 0);
  ERR_clear_error();
  auto r =
      SSL_read(ssl, buf, static_cast<int>(n > (1u << 30) ? (1u << 30) : n));
  if (r > 0)
    return r;
  switch (SSL_get_error(ssl, r)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    errno = EAGAIN;
    return -1;
  case SSL_ERROR_ZERO_RETURN:
    return 0;
  case SSL_ERROR_SYSCALL:
    if (ERR_peek_error() == 0 && (r == 0 || errno == 0))
      return 0; // the peer closed without close_notify
    if (errno == 0)
      errno = EIO;
    return -1;
  default:
    errno = EIO;
    return -1;
  }
}

} // namespace dine
