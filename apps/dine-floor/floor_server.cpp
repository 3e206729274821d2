#include "floor_server.hpp"

#include "runtime/socket_io.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <endian.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <msgpack.hpp>

#include "messages/errc.hpp"
#include "runtime/msgpack_reader.hpp"
#include "runtime/wire.hpp"

namespace dine {

namespace {

/// Stop reading a connection while more than this waits to be written.
constexpr size_t max_pending_out = 8 * 1024 * 1024;

/// How long a rejected connection may take to read its error reply.
constexpr auto linger_time = std::chrono::seconds{2};

std::vector<uint8_t> to_bytes(const msgpack::sbuffer& buf) {
  auto p = reinterpret_cast<const uint8_t*>(buf.data());
  return std::vector<uint8_t>(p, p + buf.size());
}

template <class... Ts>
std::vector<uint8_t> pack_map(const Ts&... kvs) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  pk.pack_map(sizeof...(Ts) / 2);
  (pk.pack(kvs), ...);
  return to_bytes(buf);
}

} // namespace

floor_server::floor_server(bool codec) : rbuf_(64 * 1024), codec_(codec) {
  rep_.worker = "floor";
  rep_.batch = 1;
  client_reply tmpl = rep_;
  tmpl.id = ~uint64_t{0}; // forces the 8-byte encoding
  append_reply(raw_reply_, tmpl);
  static constexpr char marker[] = "\xa2id\xcf\xff\xff\xff\xff\xff\xff\xff\xff";
  auto i = std::search(raw_reply_.begin(), raw_reply_.end(), marker,
                       marker + sizeof(marker) - 1);
  raw_id_offset_ = static_cast<size_t>(i - raw_reply_.begin()) + 4;
  health_ = pack_map(std::string{"status"}, std::string{"ok"},
                     std::string{"role"}, std::string{"floor"});
  models_ =
      pack_map(std::string{"*"}, std::string{"the floor echoes every model"});
}

floor_server::~floor_server() {
  for (auto& c : conns_)
    if (c)
      ::close(c->fd);
  if (listen_fd_ >= 0)
    ::close(listen_fd_);
  if (epoll_fd_ >= 0)
    ::close(epoll_fd_);
}

std::string floor_server::listen(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  auto port_str = std::to_string(port);
  if (auto rc = getaddrinfo(host.c_str(), port_str.c_str(), &hints, &res))
    return "cannot resolve `" + host + "`: " + gai_strerror(rc);
  std::string err;
  for (auto ai = res; ai != nullptr && listen_fd_ < 0; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      err = strerror(errno);
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        ::listen(fd, 1024) != 0) {
      err = strerror(errno);
      ::close(fd);
      continue;
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.ss_family == AF_INET6
                      ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                      : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    listen_fd_ = fd;
  }
  freeaddrinfo(res);
  if (listen_fd_ < 0)
    return "cannot listen on " + host + ":" + port_str + ": " + err;
  return {};
}

std::string floor_server::run(int stop_fd) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0)
    return std::string{"epoll_create1: "} + strerror(errno);
  for (int fd : {listen_fd_, stop_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
      return std::string{"epoll_ctl: "} + strerror(errno);
  }
  std::vector<epoll_event> evs(256);
  for (;;) {
    int timeout = closing_count_ > 0 ? 100 : -1;
    int n = epoll_wait(epoll_fd_, evs.data(), static_cast<int>(evs.size()),
                       timeout);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return std::string{"epoll_wait: "} + strerror(errno);
    for (int i = 0; i < n; ++i) {
      int fd = evs[i].data.fd;
      if (fd == stop_fd)
        return {};
      if (fd == listen_fd_) {
        accept_all();
        continue;
      }
      if (static_cast<size_t>(fd) < conns_.size() && conns_[fd])
        on_event(*conns_[fd], evs[i].events);
    }
    if (closing_count_ > 0)
      sweep_closing();
  }
}

void floor_server::accept_all() {
  for (;;) {
    int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      return; // EAGAIN, or a transient error such as EMFILE
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (static_cast<size_t>(fd) >= conns_.size())
      conns_.resize(static_cast<size_t>(fd) + 1);
    auto c = std::make_unique<connection>();
    c->fd = fd;
    c->interest = EPOLLIN;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      continue;
    }
    conns_[fd] = std::move(c);
    ++stats_.connections;
  }
}

void floor_server::on_event(connection& c, uint32_t events) {
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    auto n = ::recv(c.fd, rbuf_.data(), rbuf_.size(), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      if (n == 0 && !c.closing)
        flush(c); // best effort for half-closed clients
      drop(c);
      return;
    }
    if (n > 0 && !c.closing) {
      ++stats_.reads;
      auto len = static_cast<size_t>(n);
      bool ok;
      if (codec_)
        ok = c.reader.consume(rbuf_.data(), len, [&](const char* p, size_t k) {
          on_frame(c, p, k);
        });
      else
        ok = c.reader.consume(rbuf_.data(), len, [&](const char* p, size_t k) {
          on_frame_raw(c, p, k);
        });
      if (!ok)
        reject(c);
    }
  }
  // One write per read batch (and on EPOLLOUT).
  if (!flush(c)) {
    drop(c);
    return;
  }
  if (c.closing && c.out.empty() && !c.wr_shut) {
    ::shutdown(c.fd, SHUT_WR); // FIN after the error reply
    c.wr_shut = true;
  }
  update_interest(c);
}

void floor_server::on_frame(connection& c, const char* body, size_t size) {
  ++stats_.requests;
  decode_request(body, size, req_);
  rep_.id = req_.id;
  rep_.code = req_.error;
  if (req_.error != 0) {
    ++stats_.errors;
    rep_.message = std::move(req_.error_message);
    rep_.outputs.clear();
  } else {
    rep_.message.clear();
    switch (req_.op) {
    case op_code::infer:
      rep_.outputs = std::move(req_.inputs);
      break;
    case op_code::health:
      rep_.outputs = health_;
      break;
    case op_code::models:
      rep_.outputs = models_;
      break;
    case op_code::stats:
      rep_.outputs = pack_map(std::string{"requests"}, stats_.requests,
                              std::string{"errors"}, stats_.errors,
                              std::string{"connections"}, stats_.connections);
      break;
    case op_code::fault:
    case op_code::cancel:
    case op_code::hello:
      rep_.code = static_cast<uint8_t>(errc::unknown_op);
      rep_.message = "the floor server has no fault hooks";
      break;
    }
  }
  append_reply(c.out, rep_);
}

void floor_server::on_frame_raw(connection& c, const char* body, size_t size) {
  ++stats_.requests;
  // Find the id (normally the first key) without decoding anything else.
  msgpack_reader rd{reinterpret_cast<const uint8_t*>(body), size};
  uint32_t n = 0;
  uint64_t id = 0;
  rd.read_map_header(n);
  for (uint32_t i = 0; i < n && rd.ok(); ++i) {
    std::string_view key;
    if (rd.read_str(key) && key == "id") {
      rd.read_uint(id);
      break;
    }
    rd.skip();
  }
  auto pos = c.out.size();
  c.out.insert(c.out.end(), raw_reply_.begin(), raw_reply_.end());
  auto be = htobe64(id);
  memcpy(c.out.data() + pos + raw_id_offset_, &be, 8);
}

void floor_server::reject(connection& c) {
  ++stats_.errors;
  client_reply err;
  err.code = static_cast<uint8_t>(errc::frame_too_large);
  err.message = "frame length " + std::to_string(c.reader.rejected_length()) +
                " exceeds the maximum of " + std::to_string(default_max_frame) +
                " bytes";
  err.worker = "floor";
  append_reply(c.out, err);
  c.closing = true;
  c.close_at = clock_type::now() + linger_time;
  ++closing_count_;
}

bool floor_server::flush(connection& c) {
  if (send_pending(c.fd, c.out, c.out_off) != 0)
    return false;
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  } else if (c.out_off > c.out.size() / 2) {
    c.out.erase(c.out.begin(), c.out.begin() + c.out_off);
    c.out_off = 0;
  }
  return true;
}

void floor_server::update_interest(connection& c) {
  auto pending = c.out.size() - c.out_off;
  uint32_t want = 0;
  if (c.closing || pending <= max_pending_out)
    want |= EPOLLIN; // a closing connection is read to see the peer's EOF
  if (pending > 0)
    want |= EPOLLOUT;
  if (want == c.interest)
    return;
  epoll_event ev{};
  ev.events = want;
  ev.data.fd = c.fd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.interest = want;
}

void floor_server::drop(connection& c) {
  int fd = c.fd;
  if (c.closing)
    --closing_count_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  conns_[fd].reset(); // destroys `c`
}

void floor_server::sweep_closing() {
  auto now = clock_type::now();
  for (auto& ptr : conns_)
    if (ptr && ptr->closing && now >= ptr->close_at)
      drop(*ptr);
}

} // namespace dine
