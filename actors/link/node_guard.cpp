#include "actors/link/node_guard.hpp"

#include <atomic>
#include <iostream>
#include <mutex>

#include <caf/exit_reason.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor_impl.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/doorman_impl.hpp>
#include <caf/io/network/scribe_impl.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/link/tls_scribe.hpp"
#include "runtime/node_frame_check.hpp"

namespace dine {

namespace {

namespace net = caf::io::network;

const caf::atom_value guard_name = caf::atom("nodeguard");

std::atomic<uint64_t> refused{0};

/// A scribe whose reads are screened: the BASP broker asks for a 32-byte
/// header, then for exactly `payload_len` bytes. Each header is checked
/// (node_frame_check) before the broker sees it, so the broker never asks
/// for more than max-node-frame bytes; and a read above it is never
/// configured (the stream would size its buffer to it at once). `Base` is
/// CAF's TCP scribe or a tls_scribe: on TLS the check sees the decrypted
/// bytes, after the handshake.
template <class Base>
class guarded_scribe : public Base {
public:
  template <class... Ts>
  guarded_scribe(net::default_multiplexer& mpx, net::native_socket fd,
                 uint32_t max_payload, Ts&&... xs)
      : Base(mpx, fd, std::forward<Ts>(xs)...), check_(max_payload) {}

  void configure_read(caf::io::receive_policy::config cfg) override {
    if (!check_.allows_read(cfg.second)) {
      // Unreachable while headers are checked; kept as the last line.
      reject(frame_verdict::too_large); // dropped at its next read
      return;
    }
    Base::configure_read(cfg);
  }

  bool consume(caf::execution_unit* ctx, const void* buf, size_t n) override {
    if (rejected_)
      return drop(ctx);
    auto v = check_.on_read(static_cast<const char*>(buf), n);
    if (v != frame_verdict::ok) {
      reject(v);
      return drop(ctx);
    }
    return caf::io::scribe::consume(ctx, buf, n);
  }

private:
  void reject(frame_verdict v) {
    if (rejected_)
      return;
    rejected_ = true;
    auto n = ++refused;
    // One line per dropped peer, at most the first 100 and then every
    // 1000th, so that a flood does not become a log flood.
    if (n <= 100 || n % 1000 == 0)
      std::cerr << "dine-node: node port: dropped " << this->addr() << ":"
                << this->port() << ": " << to_string(v) << " (" << n
                << " so far)" << std::endl;
  }

  /// Ends the connection like a read error does: the broker gets its
  /// connection_closed_msg, the stream stops reading and closes the socket.
  bool drop(caf::execution_unit* ctx) {
    if (!this->detached())
      this->io_failure(ctx, net::operation::read);
    return false;
  }

  node_frame_check check_;
  bool rejected_ = false;
};

using tcp_scribe = guarded_scribe<net::scribe_impl>;
using tls_guarded_scribe = guarded_scribe<tls_scribe>;

/// A guarded scribe on the connected socket `fd`: over TLS if `tls`, then
/// null if no TLS session could be made (the socket is closed).
caf::io::scribe_ptr make_scribe(caf::actor_system& sys,
                                net::default_multiplexer& mpx,
                                net::native_socket fd, uint32_t max_payload,
                                bool tls, bool accepted) {
  if (!tls)
    return caf::io::scribe_ptr{new tcp_scribe(mpx, fd, max_payload), false};
  auto session = make_tls_session(sys, fd, accepted);
  if (!session) {
    // The peer's first bytes already failed the handshake (plaintext, no
    // or an untrusted certificate); later failures are read errors.
    auto n = ++refused;
    if (n <= 100 || n % 1000 == 0) {
      auto addr = net::remote_addr_of_fd(fd);
      auto port = net::remote_port_of_fd(fd);
      std::cerr << "dine-node: node port: dropped "
                << (addr ? *addr : std::string{"?"}) << ":"
                << (port ? *port : 0) << ": TLS handshake failed (" << n
                << " so far)" << std::endl;
    }
    net::close_socket(fd);
    return nullptr;
  }
  return caf::io::scribe_ptr{
      new tls_guarded_scribe(mpx, fd, max_payload, std::move(session)), false};
}

/// The acceptor of a node port: every accepted socket becomes a guarded
/// scribe, over TLS if configured (otherwise as
/// `doorman_impl::new_connection`).
class guarded_doorman : public net::doorman_impl {
public:
  guarded_doorman(net::default_multiplexer& mpx, net::native_socket fd,
                  uint32_t max_payload, bool tls)
      : net::doorman_impl(mpx, fd), max_payload_(max_payload), tls_(tls) {}

  bool new_connection() override {
    if (detached())
      return false;
    auto& mpx = acceptor_.backend();
    auto sptr =
        make_scribe(parent()->system(), mpx, acceptor_.accepted_socket(),
                    max_payload_, tls_, true);
    if (!sptr)
      return true; // this peer is gone; keep accepting others
    auto hdl = sptr->hdl();
    parent()->add_scribe(std::move(sptr));
    return doorman::new_connection(&mpx, hdl);
  }

private:
  uint32_t max_payload_;
  bool tls_;
};

/// CAF's middleman actor with guarded sockets. Like CAF's own it runs on
/// its own thread (detached): `connect` blocks in the TCP connect, which to
/// an unreachable host takes long, and must not hold a scheduler thread.
class guard_actor : public caf::io::middleman_actor_impl {
public:
  guard_actor(caf::actor_config& cfg, caf::actor basp, uint32_t max_payload,
              bool tls)
      : caf::io::middleman_actor_impl(cfg, std::move(basp)),
        max_payload_(max_payload), tls_(tls) {}

  const char* name() const override { return "node_guard"; }

protected:
  caf::expected<caf::io::scribe_ptr> connect(const std::string& host,
                                             uint16_t port) override {
    auto fd = net::new_tcp_connection(host, port);
    if (!fd)
      return std::move(fd.error());
    auto sptr = make_scribe(system(), mpx(), *fd, max_payload_, tls_, false);
    if (!sptr)
      return caf::make_error(caf::sec::cannot_connect_to_node,
                             "cannot start a TLS session", host, port);
    return sptr;
  }

  caf::expected<caf::io::doorman_ptr> open(uint16_t port, const char* addr,
                                           bool reuse) override {
    auto fd = net::new_tcp_acceptor_impl(port, addr, reuse);
    if (!fd)
      return std::move(fd.error());
    return caf::io::doorman_ptr{
        new guarded_doorman(mpx(), *fd, max_payload_, tls_), false};
  }

private:
  net::default_multiplexer& mpx() {
    return static_cast<net::default_multiplexer&>(
        system().middleman().backend());
  }

  uint32_t max_payload_;
  bool tls_;
};

std::mutex install_mtx;

} // namespace

caf::actor install_node_guard(caf::actor_system& sys, uint32_t max_node_frame,
                              bool tls) {
  std::lock_guard<std::mutex> guard{install_mtx};
  if (auto g = sys.registry().get<caf::actor>(guard_name))
    return g;
  auto basp =
      sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  auto g = caf::actor_cast<caf::actor>(
      sys.spawn<guard_actor, caf::detached + caf::hidden>(std::move(basp),
                                                          max_node_frame, tls));
  sys.registry().put(guard_name, g);
  return g;
}

void uninstall_node_guard(caf::actor_system& sys) {
  caf::actor g;
  {
    std::lock_guard<std::mutex> guard{install_mtx};
    g = sys.registry().get<caf::actor>(guard_name);
    if (!g)
      return;
    sys.registry().erase(guard_name);
  }
  caf::scoped_actor self{sys, true};
  self->send_exit(g, caf::exit_reason::kill);
  self->wait_for(g);
}

caf::actor node_guard(caf::actor_system& sys) {
  if (auto g = sys.registry().get<caf::actor>(guard_name))
    return g;
  return caf::actor_cast<caf::actor>(sys.middleman().actor_handle());
}

} // namespace dine
