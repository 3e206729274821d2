#include "actors/front/client_tls.hpp"

#include <atomic>
#include <iostream>
#include <mutex>
#include <unordered_set>

#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/doorman_impl.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "actors/link/tls_scribe.hpp"

namespace dine {

namespace {

namespace net = caf::io::network;
using net::rw_state;

std::atomic<uint64_t> failures{0};

/// Sockets of client-port TLS connections whose handshake runs. A socket
/// leaves before it is closed (the policy's destructor runs before the
/// stream's), so a reused descriptor is never mistaken for an old one.
struct pending_set {
  std::mutex mtx;
  std::unordered_set<int> fds;

  void add(int fd) {
    std::lock_guard<std::mutex> guard{mtx};
    fds.insert(fd);
  }

  void remove(int fd) {
    std::lock_guard<std::mutex> guard{mtx};
    fds.erase(fd);
  }

  bool contains(int fd) {
    std::lock_guard<std::mutex> guard{mtx};
    return fds.count(fd) > 0;
  }
};

pending_set& pending() {
  static pending_set x;
  return x;
}

using client_tls_scribe = basic_tls_scribe<ssl_policy>;

/// The acceptor: every accepted socket becomes a TLS scribe (otherwise as
/// `doorman_impl::new_connection`).
class tls_doorman : public net::doorman_impl {
public:
  tls_doorman(net::default_multiplexer& mpx, net::native_socket fd,
              tls_context ctx)
      : net::doorman_impl(mpx, fd), ctx_(std::move(ctx)) {}

  bool new_connection() override {
    if (detached())
      return false;
    auto& mpx = acceptor_.backend();
    auto fd = acceptor_.accepted_socket();
    net::nonblocking(fd, true);
    auto* ssl = ctx_.new_session(static_cast<int>(fd));
    if (ssl == nullptr) {
      net::close_socket(fd);
      return true; // keep accepting others
    }
    caf::io::scribe_ptr sptr{new client_tls_scribe(mpx, fd, ssl), false};
    auto hdl = sptr->hdl();
    parent()->add_scribe(std::move(sptr));
    return doorman::new_connection(&mpx, hdl);
  }

private:
  tls_context ctx_;
};

} // namespace

ssl_policy::ssl_policy(SSL* ssl) : ssl_(ssl) {
  pending().add(SSL_get_fd(ssl_));
}

ssl_policy::~ssl_policy() {
  if (pending_)
    pending().remove(SSL_get_fd(ssl_));
  SSL_free(ssl_);
}

rw_state ssl_policy::read_some(size_t& result, net::native_socket fd, void* buf,
                               size_t len) {
  auto st = do_some(false, result, buf, len);
  if (st == rw_state::failure && !SSL_is_init_finished(ssl_))
    handshake_failed(fd);
  return st;
}

rw_state ssl_policy::write_some(size_t& result, net::native_socket fd,
                                const void* buf, size_t len) {
  auto st = do_some(true, result, const_cast<void*>(buf), len);
  if (st == rw_state::failure && !SSL_is_init_finished(ssl_))
    handshake_failed(fd);
  return st;
}

bool ssl_policy::must_read_more(net::native_socket, size_t threshold) {
  return static_cast<size_t>(SSL_pending(ssl_)) >= threshold;
}

rw_state ssl_policy::do_some(bool write, size_t& result, void* buf,
                             size_t len) {
  result = 0;
  ERR_clear_error();
  if (!SSL_is_init_finished(ssl_)) {
    auto rc = SSL_do_handshake(ssl_);
    if (rc != 1) {
      switch (SSL_get_error(ssl_, rc)) {
      case SSL_ERROR_WANT_READ:
        // A write with nothing to write must not poll for writing.
        return write && len == 0 ? rw_state::indeterminate : rw_state::success;
      case SSL_ERROR_WANT_WRITE:
        return rw_state::success;
      default:
        return rw_state::failure;
      }
    }
    pending_ = false;
    pending().remove(SSL_get_fd(ssl_));
  }
  if (len == 0)
    return rw_state::indeterminate;
  auto n = static_cast<int>(len > (1u << 30) ? (1u << 30) : len);
  auto rc = write ? SSL_write(ssl_, buf, n) : SSL_read(ssl_, buf, n);
  if (rc > 0) {
    result = static_cast<size_t>(rc);
    return rw_state::success;
  }
  switch (SSL_get_error(ssl_, rc)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    return rw_state::success;
  default: // closed (ZERO_RETURN, SYSCALL) or a TLS error
    return rw_state::failure;
  }
}

void ssl_policy::handshake_failed(net::native_socket fd) {
  if (logged_)
    return;
  logged_ = true;
  auto why = tls_context::last_error("the peer closed or sent no TLS");
  auto n = ++failures;
  // As on node ports: the first 100, then every 1000th.
  if (n <= 100 || n % 1000 == 0) {
    auto addr = net::remote_addr_of_fd(fd);
    auto port = net::remote_port_of_fd(fd);
    std::cerr << "dine-node: client port: dropped "
              << (addr ? *addr : std::string{"?"}) << ":" << (port ? *port : 0)
              << ": TLS handshake failed: " << why << " (" << n << " so far)"
              << std::endl;
  }
}

caf::expected<std::pair<caf::io::accept_handle, uint16_t>>
add_tls_doorman(caf::io::abstract_broker* self, uint16_t port,
                const std::string& host, tls_context ctx) {
  auto fd = net::new_tcp_acceptor_impl(port, host.c_str(), true);
  if (!fd)
    return std::move(fd.error());
  auto& mpx = static_cast<net::default_multiplexer&>(self->backend());
  caf::io::doorman_ptr dm{new tls_doorman(mpx, *fd, std::move(ctx)), false};
  auto bound = dm->port();
  auto hdl = dm->hdl();
  self->add_doorman(std::move(dm));
  return std::make_pair(hdl, bound);
}

uint64_t client_tls_failures() {
  return failures.load();
}

bool client_tls_handshake_pending(int fd) {
  return pending().contains(fd);
}

} // namespace dine
