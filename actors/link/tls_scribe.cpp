#include "actors/link/tls_scribe.hpp"

#include <caf/io/network/native_socket.hpp>

namespace dine {

namespace net = caf::io::network;

caf::openssl::session_ptr
make_tls_session(caf::actor_system& sys, net::native_socket fd, bool accepted) {
  net::nonblocking(fd, true);
  ERR_clear_error(); // see tls_policy
  auto session = caf::openssl::make_session(sys, fd, accepted);
  ERR_clear_error();
  return session;
}

} // namespace dine
