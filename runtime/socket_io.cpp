#include "runtime/socket_io.hpp"

#include <sys/socket.h>

#include <cerrno>

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

} // namespace dine
