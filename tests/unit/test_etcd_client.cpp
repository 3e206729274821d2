// runtime/etcd_client: base64, the gateway's response parsers on real and
// hostile bodies, endpoint lists, and the fail-over on unreachable ports.

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "messages/errc.hpp"
#include "runtime/etcd_client.hpp"

using namespace dine;

TEST_CASE("etcd base64 round-trips every length and rejects bad input") {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all += static_cast<char>(i);
  for (size_t n = 0; n < 12; ++n) {
    auto s = all.substr(100, n);
    std::string back;
    REQUIRE(base64_decode(base64_encode(s), back));
    CHECK(back == s);
  }
  std::string back;
  REQUIRE(base64_decode(base64_encode(all), back));
  CHECK(back == all);
  CHECK(base64_encode("/dine/a/leader") == "L2RpbmUvYS9sZWFkZXI=");
  CHECK_FALSE(base64_decode("abc", back));      // length
  CHECK_FALSE(base64_decode("ab!d", back));     // alphabet
  CHECK_FALSE(base64_decode("a=bc", back));     // padding inside
  CHECK_FALSE(base64_decode("ab==abcd", back)); // padding not at the end
  CHECK_FALSE(base64_decode("a===", back));     // three pads
}

TEST_CASE("etcd grant and keepalive responses as etcd 3.4 sends them") {
  auto g = parse_grant_response(
      R"({"header":{"revision":"1"},"ID":"4111120453470555909","TTL":"3"})");
  REQUIRE(g);
  CHECK(g->first == 4111120453470555909);
  CHECK(g->second == 3);
  auto k = parse_keepalive_response(
      R"({"result":{"header":{"revision":"2"},"ID":"7","TTL":"3"}})");
  REQUIRE(k);
  CHECK(*k == 3);
  // A revoked or expired lease: the TTL field is left out.
  auto gone = parse_keepalive_response(R"({"result":{"ID":"7"}})");
  REQUIRE(gone);
  CHECK(*gone == 0);
  auto neg = parse_keepalive_response(R"({"result":{"ID":"7","TTL":"-1"}})");
  REQUIRE(neg);
  CHECK(*neg == 0);
}

TEST_CASE("etcd range and txn responses") {
  auto r = parse_range_response(
      R"({"header":{},"kvs":[{"key":"L2RpbmUvYS9sZWFkZXI=","create_revision":"2","mod_revision":"3","version":"1","value":"aGVsbG8=","lease":"42"}],"count":"1"})");
  REQUIRE(r);
  REQUIRE(r->has_value());
  CHECK((*r)->key == "/dine/a/leader");
  CHECK((*r)->value == "hello");
  CHECK((*r)->create_revision == 2);
  CHECK((*r)->mod_revision == 3);
  CHECK((*r)->lease == 42);
  auto none = parse_range_response(R"({"header":{"revision":"3"}})");
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
  auto won = parse_txn_response(
      R"({"header":{},"succeeded":true,"responses":[{"response_put":{}}]})");
  REQUIRE(won);
  CHECK(won->created);
  auto lost = parse_txn_response(
      R"({"header":{},"responses":[{"response_range":{"kvs":[{"key":"YQ==","value":"Yg==","lease":"5"}],"count":"1"}}]})");
  REQUIRE(lost);
  CHECK_FALSE(lost->created);
  REQUIRE(lost->current);
  CHECK(lost->current->value == "b");
  CHECK(lost->current->lease == 5);
}

TEST_CASE("etcd hostile responses are errors, never crashes") {
  const char* bodies[] = {
      "",
      "not json",
      "[1,2,3]",
      "{\"ID\":",
      R"({"ID":{"x":1},"TTL":"3"})",
      R"({"ID":"12abc","TTL":"3"})",
      R"({"ID":"99999999999999999999999","TTL":"3"})",
      R"({"ID":"1","TTL":"0"})",
      R"({"kvs":"nope"})",
      R"({"kvs":[{"key":"!!!!"}]})",
      R"({"kvs":[17]})",
      R"({"kvs":[{"key":"YQ==","lease":[1]}]})",
      R"({"succeeded":"yes"})",
      R"({"responses":{"a":1}})",
      R"({"responses":[{"response_range":{"kvs":[{"value":"@@@@"}]}}]})",
      R"({"result":"x"})",
      R"({"result":{"TTL":true}})",
  };
  for (auto b : bodies) {
    CAPTURE(b);
    auto g = parse_grant_response(b);
    auto k = parse_keepalive_response(b);
    auto r = parse_range_response(b);
    auto t = parse_txn_response(b);
    // At least the grant and keepalive parsers reject all of these; none
    // of the four may throw or crash.
    CHECK_FALSE(g);
    CHECK_FALSE(k);
    (void)r;
    (void)t;
  }
  CHECK_FALSE(parse_range_response(R"({"kvs":"nope"})"));
  CHECK_FALSE(parse_range_response(R"({"kvs":[{"key":"!!!!"}]})"));
  CHECK_FALSE(parse_txn_response(R"({"succeeded":"yes"})"));
  CHECK_FALSE(parse_txn_response(
      R"({"responses":[{"response_range":{"kvs":[{"value":"@@@@"}]}}]})"));
  auto [code, msg] = parse_error_body(
      R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})");
  CHECK(code == 5);
  CHECK(msg == "etcdserver: requested lease not found");
  CHECK(parse_error_body("garbage").first == -1);
  CHECK(parse_error_body(R"({"code":"x"})").first == -1);
}

TEST_CASE("etcd endpoint lists") {
  std::vector<etcd_endpoint> eps;
  REQUIRE(parse_etcd_endpoints("127.0.0.1:2379,localhost:22379", eps));
  REQUIRE(eps.size() == 2);
  CHECK(eps[1].host == "localhost");
  CHECK(eps[1].port == 22379);
  CHECK_FALSE(parse_etcd_endpoints("", eps));
  CHECK_FALSE(parse_etcd_endpoints("127.0.0.1", eps));
  CHECK_FALSE(parse_etcd_endpoints("127.0.0.1:0", eps));
  CHECK_FALSE(parse_etcd_endpoints("127.0.0.1:2379,:5", eps));
}

namespace {

/// A loopback port nobody listens on (bound, then closed).
uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// A loopback port that accepts (backlog) but never answers.
struct silent_listener {
  int fd = -1;
  uint16_t port = 0;
  silent_listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~silent_listener() { ::close(fd); }
};

} // namespace

TEST_CASE("etcd client: no endpoint answering is an unavailable error") {
  silent_listener silent;
  etcd_client c{{{"127.0.0.1", closed_port()}, {"127.0.0.1", silent.port}},
                std::chrono::milliseconds{200}};
  auto r = c.get("/dine/x/leader");
  REQUIRE_FALSE(r);
  auto [code, msg] = classify(r.error());
  CHECK(code == errc::unavailable);
  CAPTURE(msg);
  CHECK(msg.find("timed out") != std::string::npos);  // the silent one
  CHECK(msg.find("connecting") != std::string::npos); // the closed one
}
