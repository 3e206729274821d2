#include "runtime/metrics_server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "messages/errc.hpp"

namespace dine {

namespace {

constexpr size_t max_request = 8192;

std::string reply(const char* status, const std::string& type,
                  const std::string& body) {
  return std::string{"HTTP/1.1 "} + status + "\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    auto n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return; // the scraper went away
    done += static_cast<size_t>(n);
  }
}

} // namespace

caf::expected<std::unique_ptr<metrics_server>>
metrics_server::start(std::shared_ptr<metrics_hub> hub, const std::string& host,
                      uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  auto service = std::to_string(port);
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &res) != 0 || !res)
    return make_error(errc::invalid_config, "cannot resolve " + host);
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0)
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
      ::listen(fd, 16) != 0) {
    auto err = std::string{std::strerror(errno)};
    freeaddrinfo(res);
    if (fd >= 0)
      ::close(fd);
    return make_error(errc::invalid_config, err);
  }
  freeaddrinfo(res);
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  uint16_t bound = sa.ss_family == AF_INET6
                       ? ntohs(reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port)
                       : ntohs(reinterpret_cast<sockaddr_in*>(&sa)->sin_port);
  return std::unique_ptr<metrics_server>{
      new metrics_server(std::move(hub), fd, bound)};
}

metrics_server::metrics_server(std::shared_ptr<metrics_hub> hub, int fd,
                               uint16_t port)
    : hub_(std::move(hub)), fd_(fd), port_(port) {
  thread_ = std::thread{[this] { run(); }};
}

metrics_server::~metrics_server() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

std::string metrics_server::respond(const std::string& req,
                                    const metrics_hub& hub) {
  auto eol = req.find("\r\n");
  auto line = req.substr(0, eol);
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos)
    return reply("400 Bad Request", "text/plain", "bad request\n");
  auto method = line.substr(0, sp1);
  auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  auto path = target.substr(0, target.find('?'));
  if (path != "/metrics")
    return reply("404 Not Found", "text/plain", "not found\n");
  if (method != "GET")
    return reply("405 Method Not Allowed", "text/plain", "GET only\n");
  return reply("200 OK", "text/plain; version=0.0.4; charset=utf-8",
               hub.prometheus_text());
}

void metrics_server::run() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0)
      continue;
    // A scraper that stops reading holds this thread (and a node's
    // shutdown, which joins it) for at most this long.
    timeval send_bound{2, 0};
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &send_bound, sizeof send_bound);
    // One request per connection, read until the blank line, bounded in
    // bytes and time.
    std::string req;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds{2};
    char buf[2048];
    while (req.find("\r\n\r\n") == std::string::npos &&
           req.size() < max_request && !stop_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      until - std::chrono::steady_clock::now())
                      .count();
      pollfd q{c, POLLIN, 0};
      if (left <= 0 || ::poll(&q, 1, static_cast<int>(left)) <= 0)
        break;
      auto n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      req.append(buf, static_cast<size_t>(n));
    }
    if (req.find("\r\n") != std::string::npos)
      write_all(c, respond(req, *hub_));
    ::close(c);
  }
}

} // namespace dine
