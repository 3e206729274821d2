// Mutual TLS between nodes and authenticated joins (docs/security.md,
// "Mutual TLS", "Joins"): real dine-node processes with certificates made
// by tools/mkcerts.sh, a real TLS client (OpenSSL) for the attacks.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>

#include "security_util.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

using strings = std::vector<std::string>;

strings with(strings xs, const strings& more) {
  xs.insert(xs.end(), more.begin(), more.end());
  return xs;
}

const strings timeouts{"--heartbeat-interval-ms=100",
                       "--connection-timeout-ms=1000",
                       "--reconnect-max-ms=300"};

/// Certificates of two clusters: `dir/a` (coord, w1, w2) and `dir/b` (w1).
struct certs {
  explicit certs(const std::string& dir) : a(dir + "/a/"), b(dir + "/b/") {
    auto mk = [](const std::string& d, const std::string& nodes) {
      auto cmd = std::string{DINE_SOURCE_DIR} + "/tools/mkcerts.sh " + d + " " +
                 nodes + " >/dev/null 2>&1";
      return std::system(cmd.c_str()) == 0;
    };
    ok = mk(a, "coord w1 w2") && mk(b, "w1");
  }
  /// TLS flags of node `n` of cluster `dir` (trusting cluster `ca`).
  strings tls(const std::string& dir, const std::string& n,
              const std::string& ca = {}) const {
    return {"--tls-cert=" + dir + n + ".pem", "--tls-key=" + dir + n + ".key",
            "--tls-ca=" + (ca.empty() ? dir : ca) + "ca.pem"};
  }
  std::string a;
  std::string b;
  bool ok = false;
};

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (auto i = text.find(needle); i != std::string::npos;
       i = text.find(needle, i + 1))
    ++n;
  return n;
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
  timeval tv{5, 0}; // every read below is bounded
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

/// Sends `bytes` to 127.0.0.1:`port`, over TLS with `cert`/`key` if given
/// (trusting `ca`), then reads until the node closes the connection.
/// Returns whether it did within 5 s.
bool send_and_wait_close(uint16_t port, const std::string& bytes,
                         const std::string& cert = {},
                         const std::string& key = {},
                         const std::string& ca = {}) {
  int fd = tcp_connect(port);
  if (fd < 0)
    return false;
  bool closed = false;
  char buf[4096];
  if (ca.empty()) {
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    for (;;) {
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        closed = true;
        break;
      }
      if (n < 0)
        break; // still open after 5 s
    }
    ::close(fd);
    return closed;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!cert.empty()) {
    SSL_CTX_use_certificate_chain_file(ctx, cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM);
  }
  SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) == 1) {
    SSL_write(ssl, bytes.data(), static_cast<int>(bytes.size()));
    for (;;) {
      auto n = SSL_read(ssl, buf, sizeof(buf));
      if (n > 0)
        continue; // the node's BASP handshake comes first
      auto e = SSL_get_error(ssl, n);
      closed = !(e == SSL_ERROR_SYSCALL &&
                 (errno == EAGAIN || errno == EWOULDBLOCK));
      break;
    }
  } else {
    closed = true; // the node refused the handshake
  }
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return closed;
}

const std::string forged =
    unhex("00000000ffffffff0000000000000001") + std::string(16, '\0');
const std::string gib = unhex("0200000040000000") + std::string(24, '\0');

std::string junk(unsigned seed) {
  std::mt19937 rng{seed};
  std::string out(4096, '\0');
  for (auto& c : out)
    c = static_cast<char>(rng());
  return out;
}

} // namespace

TEST_CASE("mutual TLS: a worker with another CA's certificate, a plaintext "
          "one, one without a certificate and one with a wrong token cannot "
          "register, the right one can and serves") {
  temp_dir dir;
  certs c{dir.path()};
  REQUIRE(c.ok);
  node_process coord{
      dir.path(), "coord",
      with(with({"--role=coordinator", "--client-port=0",
                 "--listen=127.0.0.1:0", "--cluster-token=right-token"},
                c.tls(c.a, "coord")),
           timeouts)};
  auto join = "--join=127.0.0.1:" + std::to_string(coord.cluster_port());
  auto port = coord.client_port();
  node_process good{dir.path(), "good",
                    with(with({"--role=worker", join, "--name=good",
                               "--models=echo", "--cluster-token=right-token"},
                              c.tls(c.a, "w1")),
                         timeouts)};
  REQUIRE(wait_worker_count(port, 1, 10s));
  // The refused workers never get ready (a joining worker is ready once
  // registered): each runs for 6 s, all at once, then is killed.
  auto run_for_6s = [&](const std::string& name, strings args) {
    std::string cmd = "timeout -s KILL 6 " + bin("dine-node");
    for (auto& a : with(args, timeouts))
      cmd += " '" + a + "'";
    cmd += " >" + dir.path() + "/" + name + ".log 2>&1";
    return std::thread{[cmd] { (void)std::system(cmd.c_str()); }};
  };
  auto worker = [&](const std::string& name, const std::string& token) {
    return strings{"--role=worker", join, "--name=" + name, "--models=echo",
                   "--cluster-token=" + token};
  };
  std::vector<std::thread> runs;
  runs.push_back(run_for_6s(
      "other", with(worker("other", "right-token"), c.tls(c.b, "w1"))));
  runs.push_back(run_for_6s("plain", worker("plain", "right-token")));
  runs.push_back(run_for_6s(
      "wrong", with(worker("wrong", "wrong-token"), c.tls(c.a, "w2"))));
  // A TLS client that trusts the cluster CA but presents no certificate.
  CHECK(send_and_wait_close(coord.cluster_port(), forged, {}, {},
                            c.a + "ca.pem"));
  for (auto& t : runs)
    t.join();
  auto log_of = [&](const std::string& name) {
    std::ifstream in{dir.path() + "/" + name + ".log"};
    return std::string{std::istreambuf_iterator<char>{in}, {}};
  };
  CHECK(op(port, op_code::stats)["workers"].size() == 1); // good only
  CHECK(count(coord.log(), "refused worker wrong") >= 1);
  CHECK(count(coord.log(), "registered") == 1);
  CHECK(count(log_of("other"), "cannot reach") >= 1); // the handshake failed
  CHECK(count(log_of("plain"), "cannot reach") >= 1);
  CHECK(count(log_of("wrong"), "wrong cluster token") >= 1);
  check_serves(port, "echo", 200, "good");
  // The rejected peers' failed handshakes never cost the good link (they
  // did before tls_policy cleared OpenSSL's error queue).
  CHECK(count(good.log(), "registered with") == 1);
  CHECK(count(coord.log(), "worker good lost") == 0);
}

TEST_CASE("static workers over mutual TLS: the coordinator refuses the one "
          "with a wrong token and serves through the other") {
  temp_dir dir;
  certs c{dir.path()};
  REQUIRE(c.ok);
  node_process s1{
      dir.path(), "s1",
      with(with({"--role=worker", "--listen=127.0.0.1:0", "--name=s1",
                 "--models=echo", "--cluster-token=wrong-token"},
                c.tls(c.a, "w1")),
           timeouts)};
  node_process s2{
      dir.path(), "s2",
      with(with({"--role=worker", "--listen=127.0.0.1:0", "--name=s2",
                 "--models=echo", "--cluster-token=right-token"},
                c.tls(c.a, "w2")),
           timeouts)};
  node_process coord{
      dir.path(), "coord",
      with(with({"--role=coordinator", "--client-port=0",
                 "--listen=127.0.0.1:0", "--cluster-token=right-token",
                 "--worker=127.0.0.1:" + std::to_string(s1.cluster_port()),
                 "--worker=127.0.0.1:" + std::to_string(s2.cluster_port())},
                c.tls(c.a, "coord")),
           timeouts)};
  auto port = coord.client_port();
  REQUIRE(wait_worker_count(port, 1, 10s));
  check_serves(port, "echo", 100, "s2");
  CHECK(count(coord.log(), "refused worker s1") >= 1);
  CHECK(op(port, op_code::stats)["workers"].size() == 1);
}

TEST_CASE("forged 4 GiB BASP headers inside TLS from a peer with a cluster "
          "certificate, plaintext headers and garbage on a TLS node port: "
          "dropped, the node keeps serving and its worker") {
  temp_dir dir;
  certs c{dir.path()};
  REQUIRE(c.ok);
  node_process coord{dir.path(), "coord",
                     with(with({"--role=coordinator", "--client-port=0",
                                "--listen=127.0.0.1:0"},
                               c.tls(c.a, "coord")),
                          timeouts)};
  node_process w1{
      dir.path(), "w1",
      with(with({"--role=worker",
                 "--join=127.0.0.1:" + std::to_string(coord.cluster_port()),
                 "--name=w1", "--models=echo"},
                c.tls(c.a, "w1")),
           timeouts)};
  auto port = coord.client_port();
  auto node_port = coord.cluster_port();
  REQUIRE(wait_worker_count(port, 1, 10s));
  auto rss_before = status_kb(coord.pid(), "VmRSS");
  REQUIRE(rss_before > 0);
  auto cert = c.a + "w2.pem";
  auto key = c.a + "w2.key";
  auto ca = c.a + "ca.pem";
  int closed = 0;
  for (int i = 0; i < 8; ++i) // authenticated, then a forged header
    closed += send_and_wait_close(node_port, forged, cert, key, ca);
  for (int i = 0; i < 4; ++i)
    closed += send_and_wait_close(node_port, gib, cert, key, ca);
  for (int i = 0; i < 8; ++i) // plaintext: no TLS handshake at all
    closed += send_and_wait_close(node_port, forged);
  for (unsigned i = 0; i < 8; ++i)
    closed += send_and_wait_close(node_port, junk(i));
  CHECK(closed == 28);
  std::this_thread::sleep_for(1500ms); // > connection timeout
  check_serves(port, "echo", 200, "w1");
  CHECK(wait_worker_count(port, 1, 1s));
  CHECK(count(w1.log(), "registered with") == 1); // never re-registered
  // The frame check saw the 12 headers sent inside TLS.
  CHECK(count(coord.log(), "payload larger than max-node-frame") +
            count(coord.log(), "first frame is no handshake") ==
        12);
  auto peak = status_kb(coord.pid(), "VmHWM");
  INFO("RSS before " << rss_before << " kB, peak after " << peak << " kB");
  CHECK(peak < rss_before + 64 * 1024);
  // A node configured for TLS without all three files does not start.
  auto rc =
      std::system(("timeout 30 " + bin("dine-node") + " --tls-cert=" + cert +
                   " --role=coordinator >/dev/null 2>&1")
                      .c_str());
  CHECK(WEXITSTATUS(rc) == 2);
}
