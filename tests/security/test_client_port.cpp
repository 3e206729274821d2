// The client port's access control and limits (docs/security.md, "Client
// port"): API keys (a `hello` frame), admin-only ops, connections in total
// and per address, and the node-wide memory budget against clients that
// send 16 MiB frames and never read. Real processes, real sockets.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "messages/errc.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"
#include "security_util.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

using strings = std::vector<std::string>;

const std::string admin_key = "adm-7f3c9a1e5b2d4c6f8a0e";
const std::string user_key = "usr-2b4d6f8a0c1e3a5c7e9b";

uint8_t code_of(errc x) {
  return static_cast<uint8_t>(x);
}

client_request request(op_code op, uint64_t id) {
  client_request req;
  req.id = id;
  req.op = op;
  if (op == op_code::infer) {
    req.model = "echo";
    req.cache = false;
    req.inputs = inputs_for(id);
  }
  return req;
}

client_request hello(const std::string& key) {
  client_request req;
  req.op = op_code::hello;
  req.auth = key;
  return req;
}

/// Whether the node closed `conn` (reads until EOF, at most 10 s).
bool closed_by_node(client_conn& conn) {
  client_reply rep;
  for (int i = 0; i < 100; ++i) {
    auto err = conn.read_reply(rep, 10s);
    if (!err.empty())
      return !conn.timed_out();
  }
  return false;
}

/// `stats` with the admin key.
nlohmann::json admin_stats(uint16_t port) {
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", port, 5s).empty());
  REQUIRE(conn.hello(admin_key, 10s).empty());
  auto rep = ask(conn, request(op_code::stats, 9));
  REQUIRE(rep.code == 0);
  return nlohmann::json::from_msgpack(rep.outputs);
}

/// A TCP connection from source address `from` (any 127.x.y.z works on
/// Linux loopback), so that per-address limits can be tested.
int connect_from(const std::string& from, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, from.c_str(), &src.sin_addr);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) == 0);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) == 0);
  return fd;
}

/// Sends one infer on raw socket `fd` and returns the first reply.
client_reply raw_ask(int fd, uint64_t id) {
  std::vector<char> buf;
  append_request(buf, request(op_code::infer, id));
  client_reply rep;
  rep.code = 255;
  if (::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(buf.size()))
    return rep;
  std::vector<char> in;
  auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    char tmp[4096];
    auto n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0)
      break;
    in.insert(in.end(), tmp, tmp + n);
    if (in.size() >= 4) {
      uint32_t len;
      memcpy(&len, in.data(), 4);
      len = ntohl(len);
      if (in.size() >= 4 + len) {
        decode_reply(in.data() + 4, len, rep);
        return rep;
      }
    }
  }
  return rep;
}

} // namespace

TEST_CASE("client port: without a valid API key nothing is served") {
  temp_dir dir;
  {
    std::ofstream f{dir.path() + "/keys"};
    f << "# test keys\nadmin " << admin_key << "\nuser " << user_key << "\n";
  }
  node_process node{dir.path(), "node",
                    strings{"--role=all", "--client-port=0",
                            "--api-keys-file=" + dir.path() + "/keys",
                            "--enable-fault-injection"}};
  auto port = node.client_port();

  SUBCASE("no hello: unauthorized, then the connection is closed") {
    client_conn conn;
    REQUIRE(conn.connect("127.0.0.1", port, 5s).empty());
    auto rep = ask(conn, request(op_code::infer, 1));
    CHECK(rep.code == code_of(errc::unauthorized));
    CHECK(rep.id == 1);
    CHECK(rep.outputs.empty());
    CHECK(closed_by_node(conn));
    REQUIRE(conn.connect("127.0.0.1", port, 5s).empty());
    CHECK(ask(conn, request(op_code::health, 2)).code ==
          code_of(errc::unauthorized));
  }
  SUBCASE("a wrong key: unauthorized, closed, later frames not served") {
    client_conn conn;
    REQUIRE(conn.connect("127.0.0.1", port, 5s).empty());
    std::vector<char> buf;
    append_request(buf, hello(admin_key + "x"));
    append_request(buf, request(op_code::infer, 3)); // pipelined
    REQUIRE(conn.send_frames(buf).empty());
    client_reply rep;
    REQUIRE(conn.read_reply(rep, 10s).empty());
    CHECK(rep.code == code_of(errc::unauthorized));
    CHECK(closed_by_node(conn));
    REQUIRE(conn.connect("127.0.0.1", port, 5s).empty());
    CHECK_FALSE(conn.hello("", 10s).empty());
  }
  SUBCASE("a user key serves infer, not the admin ops") {
    client_conn conn;
    REQUIRE(conn.connect("127.0.0.1", port, 5s).empty());
    auto rep = ask(conn, hello(user_key));
    REQUIRE(rep.code == 0);
    CHECK(nlohmann::json::from_msgpack(rep.outputs)["role"] == "user");
    CHECK(ask(conn, request(op_code::infer, 4)).code == 0);
    CHECK(ask(conn, request(op_code::health, 5)).code == 0);
    CHECK(ask(conn, request(op_code::fault, 6)).code ==
          code_of(errc::forbidden));
    CHECK(ask(conn, request(op_code::stats, 7)).code ==
          code_of(errc::forbidden));
    CHECK(ask(conn, request(op_code::infer, 8)).code == 0); // still open
  }
  SUBCASE("an admin key serves everything; stats count the refusals") {
    {
      client_conn bad;
      REQUIRE(bad.connect("127.0.0.1", port, 5s).empty());
      CHECK(ask(bad, request(op_code::infer, 1)).code ==
            code_of(errc::unauthorized));
      client_conn user;
      REQUIRE(user.connect("127.0.0.1", port, 5s).empty());
      REQUIRE(user.hello(user_key, 10s).empty());
      CHECK(ask(user, request(op_code::stats, 2)).code ==
            code_of(errc::forbidden));
    }
    auto stats = admin_stats(port);
    CHECK(stats["client_port"]["unauthorized"].get<uint64_t>() >= 1);
    CHECK(stats["client_port"]["forbidden"].get<uint64_t>() >= 1);
    client_conn conn;
    REQUIRE(conn.connect("127.0.0.1", port, 5s).empty());
    REQUIRE(conn.hello(admin_key, 10s).empty());
    CHECK(ask(conn, request(op_code::infer, 3)).code == 0);
  }
  SUBCASE("dine-client sends --api-key and $DINE_API_KEY") {
    auto cli = bin("dine-client") +
               " --connect=127.0.0.1:" + std::to_string(port) + " --op=health";
    auto status = [](const std::string& cmd) {
      return std::system((cmd + " >/dev/null 2>&1").c_str());
    };
    CHECK(status(cli + " --api-key=" + user_key) == 0);
    CHECK(status("DINE_API_KEY=" + user_key + " " + cli) == 0);
    CHECK(status(cli) != 0);
    CHECK(status(cli + " --api-key=wrong-key-0123456789") != 0);
  }
}

TEST_CASE("client port: connections in total and per address are limited") {
  temp_dir dir;
  node_process node{dir.path(), "node",
                    strings{"--role=all", "--client-port=0",
                            "--max-connections=4",
                            "--max-connections-per-address=3"}};
  auto port = node.client_port();
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    fds.push_back(connect_from("127.0.0.1", port));
    CHECK(raw_ask(fds.back(), 10 + i).code == 0);
  }
  // A fourth from the same address: refused, whatever it sends.
  auto extra = connect_from("127.0.0.1", port);
  auto rep = raw_ask(extra, 20);
  CHECK(rep.code == code_of(errc::too_many_connections));
  CHECK(rep.message.find("per-address") != std::string::npos);
  ::close(extra);
  // Another address may still connect, up to the total.
  fds.push_back(connect_from("127.0.0.2", port));
  CHECK(raw_ask(fds.back(), 21).code == 0);
  extra = connect_from("127.0.0.3", port);
  rep = raw_ask(extra, 22);
  CHECK(rep.code == code_of(errc::too_many_connections));
  CHECK(rep.message.find("max-connections (4)") != std::string::npos);
  ::close(extra);
  // The admitted ones keep being served; a closed one frees its place.
  CHECK(raw_ask(fds[0], 23).code == 0);
  ::close(fds[0]);
  fds.erase(fds.begin());
  rep.code = 255;
  for (int i = 0; i < 50 && rep.code != 0; ++i) { // the close is async
    std::this_thread::sleep_for(50ms);
    auto fd = connect_from("127.0.0.3", port);
    rep = raw_ask(fd, 24);
    if (rep.code == 0)
      fds.push_back(fd);
    else
      ::close(fd);
  }
  CHECK(rep.code == 0);
  for (auto fd : fds)
    ::close(fd);
  client_reply st;
  for (int i = 0; i < 50; ++i) { // until the closes were seen
    st = call(port, request(op_code::stats, 30));
    if (st.code == 0)
      break;
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE(st.code == 0);
  auto stats = nlohmann::json::from_msgpack(st.outputs);
  CHECK(stats["client_port"]["refused_connections"].get<uint64_t>() >= 2);
}
