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
#include <utility>
#include <vector>

#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/native_socket.hpp>
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

/// A scribe over a TLS stream policy (otherwise as CAF's `scribe_impl`):
/// `Policy` is `tls_policy` (a caf::openssl session, between nodes) or
/// the client port's `ssl_policy` (actors/front/client_tls.hpp).
template <class Policy>
class basic_tls_scribe : public caf::io::scribe {
public:
  template <class... Ts>
  basic_tls_scribe(caf::io::network::default_multiplexer& mpx,
                   caf::io::network::native_socket fd, Ts&&... xs)
      : caf::io::scribe(caf::io::network::conn_hdl_from_socket(fd)),
        stream_(mpx, fd, std::forward<Ts>(xs)...) {}

  void configure_read(caf::io::receive_policy::config config) override {
    stream_.configure_read(config);
    if (!launched_) {
      launched_ = true;
      stream_.start(this);
    }
  }

  void ack_writes(bool enable) override { stream_.ack_writes(enable); }

  std::vector<char>& wr_buf() override { return stream_.wr_buf(); }

  std::vector<char>& rd_buf() override { return stream_.rd_buf(); }

  void graceful_shutdown() override {
    stream_.graceful_shutdown();
    detach(&stream_.backend(), false);
  }

  void flush() override { stream_.flush(this); }

  std::string addr() const override {
    auto x = caf::io::network::remote_addr_of_fd(stream_.fd());
    return x ? *x : std::string{};
  }

  uint16_t port() const override {
    auto x = caf::io::network::remote_port_of_fd(stream_.fd());
    return x ? *x : 0;
  }

  void add_to_loop() override { stream_.activate(this); }

  void remove_from_loop() override { stream_.passivate(); }

private:
  bool launched_ = false;
  caf::io::network::stream_impl<Policy> stream_;
};

/// A scribe over a caf::openssl session (mutual TLS between nodes).
using tls_scribe = basic_tls_scribe<tls_policy>;

/// Starts a TLS session on the connected socket `fd` (the handshake runs
/// on the multiplexer thread as data arrives); null if the session cannot
/// be created. The certificate, key and CA are the actor system's
/// `openssl.*` settings, set from tls-cert, tls-key and tls-ca.
caf::openssl::session_ptr make_tls_session(caf::actor_system& sys,
                                           caf::io::network::native_socket fd,
                                           bool accepted);

} // namespace dine
