// TLS on the client port (docs/security.md, "Client port TLS"): a node with
// `--client-tls` and the certificates of tools/mkcerts.sh serves a client
// that verifies it against the cluster CA (runtime/client_conn with a
// tls_context, and dine-client --ca); a client trusting another CA, one
// requiring another name, a plaintext client and hostile bytes are closed,
// and the node keeps serving. Real processes, real sockets, real OpenSSL.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "runtime/client_conn.hpp"
#include "runtime/tls_context.hpp"
#include "runtime/wire.hpp"
#include "security_util.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

using strings = std::vector<std::string>;

/// Cluster `a` (node `coord`) and a stranger CA `b`; a TLS client node.
struct tls_node {
  temp_dir dir;
  std::string a;
  std::string b;
  std::unique_ptr<node_process> node;
  uint16_t port = 0;

  explicit tls_node(strings extra = {}) {
    a = dir.path() + "/a/";
    b = dir.path() + "/b/";
    auto mk = [](const std::string& d, const std::string& nodes) {
      auto cmd = std::string{DINE_SOURCE_DIR} + "/tools/mkcerts.sh " + d + " " +
                 nodes + " >/dev/null 2>&1";
      return std::system(cmd.c_str()) == 0;
    };
    REQUIRE(mk(a, "coord"));
    REQUIRE(mk(b, "coord"));
    strings args{"--role=all",
                 "--client-port=0",
                 "--models=echo",
                 "--client-tls",
                 "--tls-cert=" + a + "coord.pem",
                 "--tls-key=" + a + "coord.key",
                 "--tls-ca=" + a + "ca.pem"};
    args.insert(args.end(), extra.begin(), extra.end());
    node = std::make_unique<node_process>(dir.path(), "node", args);
    port = node->client_port();
  }

  tls_context client(const std::string& ca_dir, const std::string& name = {}) {
    auto ctx = tls_context::client(ca_dir + "ca.pem", name);
    REQUIRE(ctx);
    return *ctx;
  }
};

/// A TLS client sends `n` echo requests and gets each back.
void serves(tls_node& t, int n = 3) {
  client_conn conn;
  conn.use_tls(t.client(t.a, "coord"));
  REQUIRE(conn.connect("127.0.0.1", t.port, 20s) == "");
  for (int i = 1; i <= n; ++i) {
    auto rep = ask(conn, echo(i, "tls " + std::to_string(i)));
    CHECK(rep.code == 0);
    CHECK(rep.id == static_cast<uint64_t>(i));
  }
}

int tcp_connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Sends `bytes` on a fresh connection; returns whether the node closed it
/// within `timeout` (anything it sends is read and dropped: a TLS alert).
bool closed_after(uint16_t port, const std::string& bytes,
                  std::chrono::milliseconds timeout) {
  int fd = tcp_connect(port);
  REQUIRE(fd >= 0);
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  auto until = std::chrono::steady_clock::now() + timeout;
  bool closed = false;
  char buf[4096];
  while (!closed && std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    closed = n <= 0;
  }
  ::close(fd);
  return closed;
}

} // namespace

TEST_CASE("client TLS: a client verifying the cluster CA is served") {
  tls_node t;
  serves(t, 5);
  // Without a name the chain alone is checked, as between nodes.
  client_conn conn;
  conn.use_tls(t.client(t.a));
  REQUIRE(conn.connect("127.0.0.1", t.port, 20s) == "");
  CHECK(ask(conn, echo(9, "no name")).code == 0);
  // dine-client --ca=... --tls-name=...
  auto cmd = bin("dine-client") +
             " --connect=127.0.0.1:" + std::to_string(t.port) + " --ca=" + t.a +
             "ca.pem --tls-name=coord --model=echo --inputs='\"cli\"' 2>&1";
  std::string out;
  if (auto* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
      out.append(buf, n);
    CHECK(pclose(p) == 0);
  }
  CHECK(out.find("\"cli\"") != std::string::npos);
}

TEST_CASE("client TLS: another CA, another name or plaintext is refused") {
  tls_node t;
  {
    client_conn conn;
    conn.use_tls(t.client(t.b)); // a stranger's CA
    auto err = conn.connect("127.0.0.1", t.port, 20s);
    CHECK(err.find("TLS handshake") != std::string::npos);
    CHECK(err.find("certificate") != std::string::npos);
    CHECK_FALSE(conn.connected());
  }
  {
    client_conn conn;
    conn.use_tls(t.client(t.a, "someone-else"));
    auto err = conn.connect("127.0.0.1", t.port, 20s);
    CHECK(err.find("TLS handshake") != std::string::npos);
    CHECK_FALSE(conn.connected());
  }
  {
    // A plaintext client's frame is no TLS ClientHello: closed, unanswered.
    std::vector<char> frame;
    append_request(frame, echo(1, "plain"));
    CHECK(closed_after(t.port, std::string(frame.begin(), frame.end()), 20s));
  }
  serves(t);
  // The node logged the refusals.
  CHECK(t.node->log().find("client port: dropped") != std::string::npos);
}

TEST_CASE("client TLS: hostile bytes are closed and the node keeps serving") {
  tls_node t;
  auto pid = t.node->pid();
  auto hwm0 = status_kb(pid, "VmHWM");
  std::mt19937 rng{15};
  for (int i = 0; i < 16; ++i) {
    std::string junk(4096, '\0');
    for (auto& c : junk)
      c = static_cast<char>(rng());
    CHECK(closed_after(t.port, junk, 20s));
  }
  // A whole handshake record of junk, and a record header claiming 32 KiB
  // (OpenSSL refuses records above 16 KiB + 2048 from the header alone).
  CHECK(closed_after(t.port, unhex("16030100ff") + std::string(255, 'x'), 20s));
  CHECK(
      closed_after(t.port, unhex("1603037fff") + std::string(64, '\x01'), 20s));
  serves(t);
  CHECK(status_kb(pid, "VmHWM") < hwm0 + 64 * 1024);
}

TEST_CASE("client TLS: the HTTP port speaks HTTPS with the same certificate") {
  tls_node t{{"--http-port=0"}};
  auto http = t.node->ready().value("http_port", 0);
  REQUIRE(http != 0);
  auto run = [](const std::string& cmd) {
    std::string out;
    if (auto* p = popen(cmd.c_str(), "r")) {
      char buf[4096];
      size_t n;
      while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        out.append(buf, n);
      pclose(p);
    }
    return out;
  };
  auto port = std::to_string(http);
  // curl checks the name: `coord` (the certificate's CN) resolves here.
  auto ok =
      run("curl -sS -m 30 --cacert " + t.a + "ca.pem --resolve coord:" + port +
          ":127.0.0.1 -w '\\n%{http_code}' -H 'Content-Type: "
          "application/json' --data-binary '{\"inputs\":\"https\"}' "
          "https://coord:" +
          port + "/v1/infer/echo 2>&1");
  CHECK(ok.find("\"https\"") != std::string::npos);
  CHECK(ok.substr(ok.rfind('\n') + 1) == "200");
  // Another CA: curl refuses the certificate; plaintext HTTP gets no
  // response (the TLS handshake fails and the node closes).
  auto other =
      run("curl -sS -m 30 --cacert " + t.b + "ca.pem --resolve coord:" + port +
          ":127.0.0.1 -w '\\n%{http_code}' https://coord:" + port +
          "/health/live 2>&1");
  CHECK(other.substr(other.rfind('\n') + 1) == "000");
  auto plain =
      run("curl -sS -m 30 -w '\\n%{http_code}' http://127.0.0.1:" + port +
          "/health/live 2>&1");
  CHECK(plain.substr(plain.rfind('\n') + 1) == "000");
  // Still serving.
  auto again =
      run("curl -sS -m 30 --cacert " + t.a + "ca.pem --resolve coord:" + port +
          ":127.0.0.1 -o /dev/null -w '%{http_code}' "
          "https://coord:" +
          port + "/health/live 2>&1");
  CHECK(again == "200");
}
