#include "http_util.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace dine::test {

namespace {

/// Single-quotes `s` for the shell.
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string run(const std::string& cmd) {
  std::string out;
  auto* p = popen(cmd.c_str(), "r");
  if (p == nullptr)
    throw std::runtime_error("popen failed: " + cmd);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    out.append(buf.data(), n);
  pclose(p);
  return out;
}

std::string url(uint16_t port, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

} // namespace

http_result curl(uint16_t port, const std::string& path,
                 const std::string& body, const std::string& method,
                 std::chrono::seconds timeout,
                 const std::vector<std::string>& headers) {
  std::string cmd = "curl -sS -m " + std::to_string(timeout.count()) +
                    " -w '\\n%{http_code}'";
  for (auto& h : headers)
    cmd += " -H " + quote(h);
  if (!method.empty())
    cmd += " -X " + method;
  std::string file; // a large body goes through a file (argument limits)
  if (body.size() > 16384) {
    char name[] = "/tmp/dine-http-body-XXXXXX";
    auto fd = mkstemp(name);
    if (fd < 0)
      throw std::runtime_error("mkstemp failed");
    ::close(fd);
    file = name;
    std::ofstream{file, std::ios::binary} << body;
    cmd += " -H 'Content-Type: application/json' --data-binary @" + file;
  } else if (!body.empty()) {
    cmd += " -H 'Content-Type: application/json' --data-binary " + quote(body);
  }
  char head_name[] = "/tmp/dine-http-head-XXXXXX";
  auto head_fd = mkstemp(head_name);
  if (head_fd < 0)
    throw std::runtime_error("mkstemp failed");
  ::close(head_fd);
  cmd += " -D " + quote(head_name);
  cmd += " " + quote(url(port, path)) + " 2>/dev/null";
  auto out = run(cmd);
  if (!file.empty())
    ::unlink(file.c_str());
  http_result r;
  {
    std::ifstream in{head_name};
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      if (line.rfind("HTTP/", 0) == 0)
        r.headers.clear(); // a later response (after 100 Continue)
      else if (!line.empty())
        r.headers.push_back(line);
    }
  }
  ::unlink(head_name);
  auto nl = out.rfind('\n');
  if (nl == std::string::npos)
    return r;
  r.status = std::atoi(out.c_str() + nl + 1);
  r.body = out.substr(0, nl);
  return r;
}

std::string http_result::header(const std::string& name) const {
  auto lower = [](std::string s) {
    for (auto& c : s)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  auto want = lower(name) + ":";
  for (auto& h : headers)
    if (lower(h.substr(0, want.size())) == want) {
      auto v = h.substr(want.size());
      auto b = v.find_first_not_of(' ');
      return b == std::string::npos ? std::string{} : v.substr(b);
    }
  return {};
}

sse_result curl_events(uint16_t port, const std::string& path,
                       const std::string& body,
                       const std::vector<std::string>& headers) {
  std::string extra;
  for (auto& h : headers)
    extra += "-H " + quote(h) + " ";
  auto out = run("curl -sS -N -m 60 -w '\\n%{http_code}' " + extra +
                 "-H "
                 "'Content-Type: application/json' --data-binary " +
                 quote(body) + " " + quote(url(port, path)) + " 2>/dev/null");
  sse_result r;
  auto nl = out.rfind('\n');
  if (nl == std::string::npos)
    return r;
  r.status = std::atoi(out.c_str() + nl + 1);
  r.raw = out.substr(0, nl);
  std::istringstream in{r.raw};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("data: ", 0) == 0)
      r.events.push_back(line.substr(6));
  return r;
}

raw_conn::raw_conn(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 ||
      ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    throw std::runtime_error("cannot connect to port " + std::to_string(port));
}

raw_conn::~raw_conn() {
  if (fd_ >= 0)
    ::close(fd_);
}

bool raw_conn::send(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    auto n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string raw_conn::read_all(std::chrono::milliseconds timeout) {
  std::string out;
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return out;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return out;
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0)
      return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

bool raw_conn::closed_within(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return false;
    char buf[4096];
    if (::recv(fd_, buf, sizeof(buf), 0) <= 0)
      return true;
  }
}

int status_of(const std::string& raw) {
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12)
    return 0;
  return std::atoi(raw.c_str() + 9);
}

bool wait_status(uint16_t port, const std::string& path, int status,
                 std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (curl(port, path, {}, {}, std::chrono::seconds{10}).status == status)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  return false;
}

} // namespace dine::test
