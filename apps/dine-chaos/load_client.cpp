#include "load_client.hpp"
#include "runtime/socket_io.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <unordered_set>

#include <msgpack.hpp>

#include "messages/client.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/frame.hpp"
#include "runtime/model_backend.hpp"
#include "runtime/wire.hpp"

namespace dine::chaos {

namespace {

constexpr int64_t ms_ns = 1000000;
constexpr int64_t connect_timeout_ns = 2000 * ms_ns;

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// msgpack bytes of {"i": n}.
std::vector<uint8_t> inputs_for(uint64_t n) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  pk.pack_map(1);
  pk.pack(std::string{"i"});
  pk.pack_uint64(n);
  auto p = reinterpret_cast<const uint8_t*>(buf.data());
  return {p, p + buf.size()};
}

} // namespace

/// One client connection; its index survives reconnects.
struct load_client::connection {
  enum class state { down, connecting, up };
  uint32_t index = 0;
  int fd = -1;
  state st = state::down;
  int64_t retry_at = 0;
  int64_t connect_started = 0;
  frame_reader reader;
  std::vector<char> out;
  size_t out_off = 0;
  bool want_out = false;
  std::unordered_set<uint64_t> inflight;
};

load_client::load_client(load_settings cfg, resolve_fn resolve)
    : cfg_(std::move(cfg)), resolve_(std::move(resolve)), rbuf_(256 * 1024) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  res_.workers.emplace_back();
  for (size_t i = 0; i < cfg_.connections; ++i) {
    conns_.push_back(std::make_unique<connection>());
    conns_.back()->index = static_cast<uint32_t>(i);
  }
}

load_client::~load_client() {
  abort_ = true;
  if (thread_.joinable())
    thread_.join();
  for (auto& c : conns_)
    if (c->fd >= 0)
      ::close(c->fd);
  if (epoll_fd_ >= 0)
    ::close(epoll_fd_);
}

std::string load_client::connect_all(int64_t timeout_ms) {
  if (epoll_fd_ < 0)
    return std::string{"epoll_create1: "} + strerror(errno);
  auto addr = resolve_();
  std::string host;
  uint16_t port = 0;
  if (auto err = split_host_port(addr, host, port); !err.empty())
    return "load target: " + err;
  for (auto& c : conns_) {
    client_conn conn;
    auto err = conn.connect(host, port, std::chrono::milliseconds{timeout_ms});
    if (!err.empty())
      return err;
    c->fd = conn.release(); // non-blocking, TCP_NODELAY
    c->st = connection::state::up;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = c->index;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c->fd, &ev);
    res_.events.push_back({0, c->index, true, addr});
  }
  return {};
}

void load_client::start(int64_t t0_ns) {
  t0_ns_ = t0_ns;
  thread_ = std::thread{[this] { run(); }};
}

load_result load_client::join() {
  if (thread_.joinable())
    thread_.join();
  return std::move(res_);
}

int64_t load_client::now() const {
  return steady_ns() - t0_ns_;
}

void load_client::run() {
  if (epoll_fd_ < 0) {
    done_ = true;
    return;
  }
  std::vector<epoll_event> evs(64);
  for (;;) {
    auto t = now();
    if (abort_)
      break;
    bool sending = t < cfg_.duration_ns;
    if (!sending && t >= cfg_.duration_ns + cfg_.grace_ns + cfg_.quiet_ns)
      break;
    if (!sending && inflight_ == 0) {
      // Every request has its reply: the quiet period, counted from the
      // last reply (a duplicate restarts it).
      if (!quiet_) {
        quiet_ = true;
        last_reply_ns_ = t;
      }
      if (t - last_reply_ns_ >= cfg_.quiet_ns)
        break;
    } else if (!sending && t >= cfg_.duration_ns + cfg_.grace_ns) {
      break; // the rest are lost
    }
    for (auto& c : conns_) {
      if (sending && c->st == connection::state::down && t >= c->retry_at)
        try_connect(*c, t);
      else if (c->st == connection::state::connecting &&
               t - c->connect_started > connect_timeout_ns)
        drop(*c, t, "connect timed out");
    }
    if (sending)
      pace(t);
    int wait_ms = sending && cfg_.rate > 0 ? 1 : 10;
    int n = epoll_wait(epoll_fd_, evs.data(), static_cast<int>(evs.size()),
                       wait_ms);
    t = now();
    for (int i = 0; i < n; ++i) {
      auto& c = *conns_[evs[i].data.u32];
      auto ev = evs[i].events;
      if (c.st == connection::state::connecting) {
        on_connected(c, t);
      } else if (c.st == connection::state::up) {
        if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
          on_readable(c, t);
        if (c.st == connection::state::up && (ev & EPOLLOUT))
          flush(c, t);
      }
    }
  }
  auto t = now();
  for (auto& c : conns_) {
    if (c->fd >= 0) {
      ::close(c->fd);
      c->fd = -1;
    }
    c->st = connection::state::down;
  }
  for (auto& r : res_.requests)
    if (r.result == outcome::pending)
      r.result = outcome::lost;
  res_.end_ns = t;
  done_ = true;
}

void load_client::pace(int64_t t) {
  if (cfg_.rate > 0) {
    auto due =
        static_cast<uint64_t>(static_cast<double>(t) * cfg_.rate * 1e-9) + 1;
    while (scheduled_ < due) {
      auto at = static_cast<int64_t>(static_cast<double>(scheduled_) * 1e9 /
                                     cfg_.rate);
      ++scheduled_;
      bool sent = false;
      for (size_t k = 0; k < conns_.size() && !sent; ++k) {
        auto& c = *conns_[next_conn_];
        next_conn_ = (next_conn_ + 1) % conns_.size();
        if (c.st == connection::state::up && c.inflight.size() < cfg_.depth)
          sent = send_one(c, t);
      }
      if (!sent) {
        request_record r;
        r.sent_ns = at;
        r.result = outcome::unsent;
        res_.requests.push_back(r);
      }
    }
  } else {
    for (auto& c : conns_)
      while (c->st == connection::state::up && c->inflight.size() < cfg_.depth)
        send_one(*c, t);
  }
  for (auto& c : conns_)
    if (c->st == connection::state::up && c->out_off < c->out.size() &&
        !c->want_out)
      flush(*c, t);
}

bool load_client::send_one(connection& c, int64_t t) {
  request_record r;
  r.sent_ns = t;
  r.conn = c.index;
  res_.requests.push_back(r);
  client_request req;
  req.id = res_.requests.size();
  req.model = cfg_.model;
  req.inputs = inputs_for(req.id);
  req.cache = cfg_.cache;
  req.deadline_ms = cfg_.deadline_ms;
  append_request(c.out, req);
  c.inflight.insert(req.id);
  ++inflight_;
  return true;
}

void load_client::try_connect(connection& c, int64_t t) {
  c.retry_at = t + cfg_.reconnect_ns;
  std::string host;
  uint16_t port = 0;
  auto addr = resolve_();
  if (addr.empty() || !split_host_port(addr, host, port).empty())
    return;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  auto port_str = std::to_string(port);
  if (getaddrinfo(host.c_str(), port_str.c_str(), &hints, &res) != 0)
    return;
  int fd =
      ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -1 : ::connect(fd, res->ai_addr, res->ai_addrlen);
  auto err = errno;
  freeaddrinfo(res);
  if (fd < 0)
    return;
  if (rc != 0 && err != EINPROGRESS) {
    ::close(fd);
    return;
  }
  c.fd = fd;
  c.st = connection::state::connecting;
  c.connect_started = t;
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u32 = c.index;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  c.want_out = true;
  if (rc == 0)
    on_connected(c, t);
}

void load_client::on_connected(connection& c, int64_t t) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    err = errno;
  if (err != 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    c.st = connection::state::down;
    return;
  }
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c.st = connection::state::up;
  c.reader = frame_reader{};
  c.out.clear();
  c.out_off = 0;
  watch(c, false);
  sockaddr_storage peer{};
  socklen_t plen = sizeof(peer);
  char host[NI_MAXHOST] = "?";
  char serv[NI_MAXSERV] = "?";
  if (getpeername(c.fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0)
    getnameinfo(reinterpret_cast<sockaddr*>(&peer), plen, host, sizeof(host),
                serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
  res_.events.push_back(
      {t, c.index, true, std::string{host} + ":" + std::string{serv}});
}

void load_client::on_readable(connection& c, int64_t t) {
  for (;;) {
    auto n = ::recv(c.fd, rbuf_.data(), rbuf_.size(), 0);
    if (n > 0) {
      auto f = [&](const char* body, size_t size) {
        on_frame(c, body, size, t);
      };
      if (!c.reader.consume(rbuf_.data(), static_cast<size_t>(n), f)) {
        drop(c, t, "reply frame too large");
        return;
      }
      if (static_cast<size_t>(n) < rbuf_.size())
        return;
      continue;
    }
    if (n == 0) {
      drop(c, t, "closed by the node");
      return;
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      drop(c, t, std::string{"recv: "} + strerror(errno));
    return;
  }
}

void load_client::on_frame(connection& c, const char* body, size_t size,
                           int64_t t) {
  client_reply rep;
  if (!decode_reply(body, size, rep)) {
    ++res_.bad_replies;
    return;
  }
  if (rep.id == 0 || rep.id > res_.requests.size()) {
    ++res_.unknown_replies;
    return;
  }
  last_reply_ns_ = t;
  auto& r = res_.requests[rep.id - 1];
  if (r.replies > 0) {
    if (r.replies < UINT16_MAX)
      ++r.replies; // a duplicate
    if (quiet_)
      ++res_.late_duplicates;
    return;
  }
  if (r.conn != c.index || c.inflight.erase(rep.id) == 0) {
    ++res_.unknown_replies;
    return;
  }
  --inflight_;
  r.replies = 1;
  r.done_ns = t;
  r.result = rep.code == 0 ? outcome::ok : outcome::error;
  r.code = rep.code;
  r.worker = intern(rep.worker);
  if (rep.code == 0) {
    auto in = inputs_for(rep.id);
    if (cfg_.model == "echo")
      r.wrong_output = rep.outputs != in;
    else if (cfg_.model == "cost" || cfg_.model == "sleep")
      r.wrong_output = rep.outputs != fnv1a_outputs(in.data(), in.size());
  }
}

void load_client::flush(connection& c, int64_t t) {
  if (auto err = send_pending(c.fd, c.out, c.out_off)) {
    drop(c, t, std::string{"send: "} + strerror(err));
    return;
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  }
  bool want = !c.out.empty();
  if (want != c.want_out)
    watch(c, want);
}

void load_client::drop(connection& c, int64_t t, const std::string& why) {
  bool was_up = c.st == connection::state::up;
  for (auto id : c.inflight) {
    auto& r = res_.requests[id - 1];
    r.result = outcome::disconnected;
    r.done_ns = t;
  }
  inflight_ -= c.inflight.size();
  c.inflight.clear();
  if (c.fd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
  }
  c.fd = -1;
  c.st = connection::state::down;
  c.retry_at = t + cfg_.reconnect_ns;
  c.out.clear();
  c.out_off = 0;
  c.want_out = false;
  if (was_up)
    res_.events.push_back({t, c.index, false, why});
}

void load_client::watch(connection& c, bool out) {
  epoll_event ev{};
  ev.events = EPOLLIN | (out ? EPOLLOUT : 0u);
  ev.data.u32 = c.index;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.want_out = out;
}

uint16_t load_client::intern(const std::string& worker) {
  for (size_t i = 0; i < res_.workers.size(); ++i)
    if (res_.workers[i] == worker)
      return static_cast<uint16_t>(i);
  if (res_.workers.size() >= UINT16_MAX)
    return 0;
  res_.workers.push_back(worker);
  return static_cast<uint16_t>(res_.workers.size() - 1);
}

} // namespace dine::chaos
