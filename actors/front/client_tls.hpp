#pragma once

// client_tls: TLS on the client port (`client-tls`, docs/security.md
// "Client port TLS"). Not an actor: the acceptor's doorman and the
// scribes it makes, driven by the middleman's multiplexer thread like
// CAF's own. The client listener (actors/front/client_listener.hpp) opens
// its port with `add_tls_doorman` instead of `add_tcp_doorman`; each
// accepted socket becomes a scribe whose bytes go through an OpenSSL
// session with the node's certificate (runtime/tls_context.hpp), and the
// listener sees plaintext frames exactly as on a TCP port.
// On failure: a handshake that fails (a plaintext client, hostile bytes,
// an old protocol) is a read error: the listener gets the connection's
// connection_closed_msg and the socket is closed; one line is logged per
// failed handshake (the first 100, then every 1000th). A handshake that
// does not finish is closed by the listener after `client-handshake-
// timeout-ms` (it asks `client_tls_handshake_pending`).

#include <cstdint>
#include <string>
#include <utility>

#include <caf/expected.hpp>
#include <caf/io/abstract_broker.hpp>
#include <caf/io/network/native_socket.hpp>
#include <caf/io/network/rw_state.hpp>

#include "runtime/tls_context.hpp"

namespace dine {

/// The stream policy of one TLS client connection (server side): the
/// handshake first, then SSL_read/SSL_write, each on an empty OpenSSL
/// error queue (see actors/link/tls_scribe.hpp, tls_policy). Owns the
/// session.
class ssl_policy {
public:
  /// Takes `ssl`, whose handshake is pending until it finishes.
  explicit ssl_policy(SSL* ssl);
  ~ssl_policy();
  ssl_policy(const ssl_policy&) = delete;
  ssl_policy& operator=(const ssl_policy&) = delete;

  caf::io::network::rw_state read_some(size_t& result,
                                       caf::io::network::native_socket fd,
                                       void* buf, size_t len);

  caf::io::network::rw_state write_some(size_t& result,
                                        caf::io::network::native_socket fd,
                                        const void* buf, size_t len);

  bool must_read_more(caf::io::network::native_socket fd, size_t threshold);

private:
  caf::io::network::rw_state do_some(bool write, size_t& result, void* buf,
                                     size_t len);
  /// Logs a failed handshake once.
  void handshake_failed(caf::io::network::native_socket fd);

  SSL* ssl_;
  bool logged_ = false;
  bool pending_ = true; ///< Listed in the pending handshakes.
};

/// Opens a TLS acceptor on `host:port` for `self` (as
/// `add_tcp_doorman(port, host, true)`): returns its handle and port.
caf::expected<std::pair<caf::io::accept_handle, uint16_t>>
add_tls_doorman(caf::io::abstract_broker* self, uint16_t port,
                const std::string& host, tls_context ctx);

/// Handshakes that failed on the client port since the start.
uint64_t client_tls_failures();

/// Returns whether the client-port TLS connection on socket `fd` has not
/// finished its handshake yet (false for any other socket). Thread-safe;
/// one lock per call, called by the listener's timer only.
bool client_tls_handshake_pending(int fd);

} // namespace dine
