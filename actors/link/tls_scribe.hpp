#pragma once

// tls_scribe: a TCP connection of a node port whose bytes go through a
// caf::openssl session (mutual TLS, docs/security.md "Mutual TLS").
//
// Not an actor: a CAF scribe (broker servant) owned by the BASP broker and
// driven by the middleman's multiplexer thread, as CAF's own openssl
// scribe is. The node guard (actors/link/node_guard.hpp) creates it, wraps
// it in its BASP frame check, and hands it to the BASP broker; the check
// sees the decrypted bytes, after the handshake and before the broker.
// A failed handshake (no certificate, one from another CA, a plaintext
// peer) is a read error: the broker gets connection_closed_msg and the
// socket is closed.

#include <string>

#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/stream_impl.hpp>
#include <caf/io/scribe.hpp>
#include <caf/openssl/session.hpp>
#include <openssl/err.h>

namespace dine {

/// The stream policy of a TLS connection: reads and writes through the
/// session (as CAF's openssl module does), each on an empty OpenSSL error
/// queue. CAF's session reads SSL_get_error() without clearing the queue
/// first, and the queue is per thread: an error left by one peer's failed
/// handshake made the next "would block" of another connection on the
/// multiplexer thread look like a TLS error, and dropped a healthy link
/// (measured: every rejected peer cost a registered worker its link).
class tls_policy {
public:
  explicit tls_policy(caf::openssl::session_ptr s) : session_(std::move(s)) {}

  caf::io::network::rw_state read_some(size_t& result,
                                       caf::io::network::native_socket fd,
                                       void* buf, size_t len) {
    ERR_clear_error();
    return session_->read_some(result, fd, buf, len);
  }

  caf::io::network::rw_state write_some(size_t& result,
                                        caf::io::network::native_socket fd,
                                        const void* buf, size_t len) {
    ERR_clear_error();
    return session_->write_some(result, fd, buf, len);
  }

  bool must_read_more(caf::io::network::native_socket fd, size_t threshold) {
    ERR_clear_error();
    return session_->must_read_more(fd, threshold);
  }

private:
  caf::openssl::session_ptr session_;
};

/// A scribe over a TLS session (otherwise as CAF's `scribe_impl`).
class tls_scribe : public caf::io::scribe {
public:
  tls_scribe(caf::io::network::default_multiplexer& mpx,
             caf::io::network::native_socket fd,
             caf::openssl::session_ptr session);

  void configure_read(caf::io::receive_policy::config config) override;
  void ack_writes(bool enable) override;
  std::vector<char>& wr_buf() override;
  std::vector<char>& rd_buf() override;
  void graceful_shutdown() override;
  void flush() override;
  std::string addr() const override;
  uint16_t port() const override;
  void add_to_loop() override;
  void remove_from_loop() override;

private:
  bool launched_ = false;
  caf::io::network::stream_impl<tls_policy> stream_;
};

/// Starts a TLS session on the connected socket `fd` (the handshake runs
/// on the multiplexer thread as data arrives); null if the session cannot
/// be created. The certificate, key and CA are the actor system's
/// `openssl.*` settings, set from tls-cert, tls-key and tls-ca.
caf::openssl::session_ptr make_tls_session(caf::actor_system& sys,
                                           caf::io::network::native_socket fd,
                                           bool accepted);

} // namespace dine
