#include "runtime/client_conn.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "messages/errc.hpp"
#include "runtime/wire.hpp"

namespace dine {

namespace {

using clock_type = std::chrono::steady_clock;

/// Milliseconds left until `deadline`, rounded up, at least 0.
int remaining_ms(clock_type::time_point deadline) {
  auto left = deadline - clock_type::now();
  if (left <= clock_type::duration::zero())
    return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 1000000 ? 1000000 : static_cast<int>(ms);
}

/// Waits for `events` on `fd`. Returns 1 when ready, 0 on timeout, -1 on
/// error (errno set).
int wait_for(int fd, short events, clock_type::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    auto ms = remaining_ms(deadline);
    auto n = ::poll(&p, 1, ms);
    if (n > 0)
      return 1;
    if (n < 0 && errno != EINTR)
      return -1;
    if (n == 0 && (ms == 0 || clock_type::now() >= deadline))
      return 0;
  }
}

std::string errno_text(int err) {
  return std::string{strerror(err)};
}

} // namespace

client_conn::client_conn(uint32_t max_frame)
    : max_frame_(max_frame), reader_(max_frame), rbuf_(64 * 1024) {
  // nop
}

client_conn::~client_conn() {
  close();
}

std::string client_conn::connect(const std::string& host, uint16_t port,
                                 duration timeout) {
  close();
  timed_out_ = false;
  auto deadline = clock_type::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  auto port_str = std::to_string(port);
  if (auto rc = getaddrinfo(host.c_str(), port_str.c_str(), &hints, &res))
    return "cannot resolve `" + host + "`: " + gai_strerror(rc);
  std::string errors;
  for (auto ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 ai->ai_protocol);
    if (fd < 0) {
      errors = errno_text(errno);
      continue;
    }
    int err = 0;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS || err == EINTR) {
        auto w = wait_for(fd, POLLOUT, deadline);
        if (w == 1) {
          socklen_t len = sizeof(err);
          if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        } else {
          err = w == 0 ? ETIMEDOUT : errno;
        }
      }
    }
    if (err != 0) {
      ::close(fd);
      errors = errno_text(err);
      if (err == ETIMEDOUT && remaining_ms(deadline) == 0) {
        timed_out_ = true;
        break;
      }
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fd_ = fd;
    break;
  }
  freeaddrinfo(res);
  if (fd_ < 0)
    return "cannot connect to " + host + ":" + port_str + ": " + errors;
  if (tls_)
    return handshake(
        host + ":" + port_str,
        std::chrono::duration_cast<duration>(deadline - clock_type::now()));
  return {};
}

void client_conn::use_tls(tls_context ctx) {
  std::signal(SIGPIPE, SIG_IGN);
  tls_ = std::move(ctx);
}

std::string client_conn::handshake(const std::string& where, duration timeout) {
  auto deadline = clock_type::now() + timeout;
  ssl_ = tls_.new_session(fd_);
  if (ssl_ == nullptr)
    return fail("cannot start a TLS session: " +
                tls_context::last_error("no detail"));
  for (;;) {
    ERR_clear_error();
    auto rc = SSL_do_handshake(ssl_);
    if (rc == 1)
      return {};
    auto e = SSL_get_error(ssl_, rc);
    short ev = e == SSL_ERROR_WANT_READ    ? POLLIN
               : e == SSL_ERROR_WANT_WRITE ? POLLOUT
                                           : 0;
    if (ev == 0) {
      auto verify = SSL_get_verify_result(ssl_);
      std::string why = verify != X509_V_OK
                            ? X509_verify_cert_error_string(verify)
                            : tls_context::last_error(
                                  "the node closed the connection (is its "
                                  "client port TLS?)");
      return fail("TLS handshake with " + where + " failed: " + why);
    }
    auto w = wait_for(fd_, ev, deadline);
    if (w == 0) {
      timed_out_ = true;
      return fail("TLS handshake with " + where + " timed out");
    }
    if (w < 0)
      return fail("poll failed: " + errno_text(errno));
  }
}

std::string client_conn::send_frames(const std::vector<char>& buf,
                                     duration timeout) {
  return send_bytes(buf.data(), buf.size(), timeout);
}

std::string client_conn::send_bytes(const char* data, size_t size,
                                    duration timeout) {
  timed_out_ = false;
  if (fd_ < 0)
    return "not connected";
  auto deadline = clock_type::now() + timeout;
  size_t off = 0;
  while (off < size) {
    short ev = POLLOUT;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      auto chunk = size - off > (1u << 30) ? (1u << 30) : size - off;
      auto n = SSL_write(ssl_, data + off, static_cast<int>(chunk));
      if (n > 0) {
        off += static_cast<size_t>(n);
        continue;
      }
      auto e = SSL_get_error(ssl_, n);
      if (e == SSL_ERROR_WANT_READ)
        ev = POLLIN;
      else if (e != SSL_ERROR_WANT_WRITE)
        return fail("TLS send failed: " +
                    tls_context::last_error("connection closed"));
    } else {
      auto n = ::send(fd_, data + off, size - off, MSG_NOSIGNAL);
      if (n >= 0) {
        off += static_cast<size_t>(n);
        continue;
      }
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return fail("send failed: " + errno_text(errno));
    }
    auto w = wait_for(fd_, ev, deadline);
    if (w == 0) {
      timed_out_ = true;
      // A partly written frame cannot be resumed by the caller.
      return fail("timeout while sending");
    }
    if (w < 0)
      return fail("poll failed: " + errno_text(errno));
  }
  return {};
}

std::string client_conn::read_frame(std::vector<char>& body, duration timeout) {
  timed_out_ = false;
  auto deadline = clock_type::now() + timeout;
  auto on_frame = [this](const char* p, size_t n) {
    ready_.emplace_back(p, p + n);
  };
  while (ready_.empty()) {
    if (fd_ < 0)
      return "not connected";
    short ev = POLLIN;
    ssize_t n = 0;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      auto r = SSL_read(ssl_, rbuf_.data(), static_cast<int>(rbuf_.size()));
      if (r > 0) {
        n = r;
      } else {
        auto e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_ZERO_RETURN ||
            (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
          return fail("connection closed by peer");
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
          return fail("TLS read failed: " +
                      tls_context::last_error("connection reset"));
        if (e == SSL_ERROR_WANT_WRITE)
          ev = POLLOUT;
        n = -1;
        errno = EAGAIN;
      }
    } else {
      n = ::recv(fd_, rbuf_.data(), rbuf_.size(), 0);
    }
    if (n > 0) {
      if (!reader_.consume(rbuf_.data(), static_cast<size_t>(n), on_frame))
        return fail("frame length " +
                    std::to_string(reader_.rejected_length()) +
                    " exceeds the maximum");
      continue;
    }
    if (n == 0)
      return fail("connection closed by peer");
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return fail("recv failed: " + errno_text(errno));
    auto w = wait_for(fd_, ev, deadline);
    if (w == 0) {
      timed_out_ = true;
      return "timeout while waiting for a reply";
    }
    if (w < 0)
      return fail("poll failed: " + errno_text(errno));
  }
  body = std::move(ready_.front());
  ready_.pop_front();
  return {};
}

std::string client_conn::read_reply(client_reply& out, duration timeout) {
  std::vector<char> body;
  auto err = read_frame(body, timeout);
  if (!err.empty())
    return err;
  if (!decode_reply(body.data(), body.size(), out))
    return fail("malformed reply frame (" + std::to_string(body.size()) +
                " bytes)");
  return {};
}

std::string client_conn::hello(const std::string& key, duration timeout) {
  client_request req;
  req.op = op_code::hello;
  req.auth = key;
  std::vector<char> buf;
  append_request(buf, req);
  if (auto err = send_frames(buf, timeout); !err.empty())
    return err;
  client_reply rep;
  if (auto err = read_reply(rep, timeout); !err.empty())
    return err;
  if (rep.code != 0)
    return std::string{to_string(static_cast<errc>(rep.code))} + ": " +
           rep.message;
  return {};
}

SSL* client_conn::release_tls() noexcept {
  auto ssl = ssl_;
  ssl_ = nullptr;
  return ssl;
}

int client_conn::release() noexcept {
  if (ssl_ != nullptr) { // not taken: it cannot outlive this object
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  auto fd = fd_;
  fd_ = -1;
  ready_.clear();
  reader_ = frame_reader{max_frame_};
  return fd;
}

void client_conn::close() noexcept {
  if (ssl_ != nullptr) {
    SSL_shutdown(ssl_); // a close_notify, best effort (non-blocking)
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
  ready_.clear();
  reader_ = frame_reader{max_frame_};
}

std::string client_conn::fail(std::string msg) {
  close();
  return msg;
}

std::string split_host_port(const std::string& in, std::string& host,
                            uint16_t& port) {
  auto colon = in.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == in.size())
    return "expected HOST:PORT, got `" + in + "`";
  host = in.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto port_str = in.substr(colon + 1);
  unsigned long value = 0;
  for (auto c : port_str) {
    if (c < '0' || c > '9' || value > 65535)
      return "bad port `" + port_str + "` in `" + in + "`";
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value == 0 || value > 65535)
    return "port must be 1..65535, got `" + port_str + "`";
  port = static_cast<uint16_t>(value);
  return {};
}

} // namespace dine
