// One `dine-node --role=all` process: the embedded default, and what it does
// with bad input on a real socket.

#include <doctest/doctest.h>

#include <arpa/inet.h>

#include <csignal>
#include <thread>

#include "harness.hpp"
#include "messages/errc.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

std::vector<char> raw_frame(const std::string& body) {
  auto len = htonl(static_cast<uint32_t>(body.size()));
  std::string frame(reinterpret_cast<const char*>(&len), 4);
  frame += body;
  return {frame.begin(), frame.end()};
}

client_reply roundtrip(client_conn& conn, const std::vector<char>& frames) {
  REQUIRE(conn.send_frames(frames).empty());
  client_reply rep;
  auto err = conn.read_reply(rep, 5s);
  REQUIRE_MESSAGE(err.empty(), err);
  return rep;
}

} // namespace

TEST_CASE("--role=all answers requests with no other process") {
  temp_dir dir;
  node_process node{dir.path(),
                    "all",
                    {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
                     "--local-workers=2"}};
  auto res = run_load(node.client_port(), "echo", 500, 4, 16, 30s, 1000);
  REQUIRE(res.error.empty());
  REQUIRE(res.replies.size() == 500);
  CHECK(res.duplicates == 0);
  for (auto& [id, rs] : res.replies) {
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].code == 0);
    CHECK(rs[0].outputs == inputs_for(id - 1));
    CHECK(rs[0].batch >= 1);
  }
  auto health = op(node.client_port(), op_code::health);
  CHECK(health["status"] == "ok");
  CHECK(health["workers"] == 2);
  // cost returns {"fnv1a": FNV-1a of the input bytes}.
  client_request req;
  req.id = 3;
  req.model = "cost";
  req.inputs = inputs_for(3);
  auto rep = call(node.client_port(), req);
  REQUIRE(rep.code == 0);
  auto out = nlohmann::json::from_msgpack(rep.outputs);
  uint64_t h = 14695981039346656037ull;
  for (auto b : req.inputs)
    h = (h ^ b) * 1099511628211ull;
  CHECK(out["fnv1a"].get<uint64_t>() == h);
}

TEST_CASE("bad input on a real socket gets error replies and the node keeps "
          "serving") {
  temp_dir dir;
  node_process node{dir.path(),
                    "all",
                    {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
                     "--max-frame-bytes=4096"}};
  auto port = node.client_port();
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", port, 5s).empty());
  // Not msgpack.
  auto rep = roundtrip(conn, raw_frame("\xc1\xc1\xc1"));
  CHECK(rep.code == static_cast<uint8_t>(errc::invalid_request));
  // A map without `model`: the id is still echoed.
  rep = roundtrip(conn, raw_frame("\x81\xa2id\x2a"));
  CHECK(rep.id == 42);
  CHECK(rep.code == static_cast<uint8_t>(errc::invalid_request));
  CHECK(rep.message.find("model") != std::string::npos);
  // Unknown op and unknown model.
  client_request req;
  req.id = 5;
  req.model = "nope";
  std::vector<char> buf;
  append_request(buf, req);
  rep = roundtrip(conn, buf);
  CHECK(rep.id == 5);
  CHECK(rep.code == static_cast<uint8_t>(errc::unknown_model));
  rep = roundtrip(conn, raw_frame("\x82\xa2id\x06\xa2op\xa4nope"));
  CHECK(rep.id == 6);
  CHECK(rep.code == static_cast<uint8_t>(errc::unknown_op));
  // Deep nesting in inputs.
  std::string deep = "\x83\xa2id\x07\xa5model\xa4"
                     "echo\xa6inputs";
  deep += std::string(100, '\x91') + '\x01';
  rep = roundtrip(conn, raw_frame(deep));
  CHECK(rep.id == 7);
  CHECK(rep.code == static_cast<uint8_t>(errc::invalid_request));
  // The same connection still serves good requests.
  req.id = 8;
  req.model = "echo";
  req.inputs = inputs_for(8);
  buf.clear();
  append_request(buf, req);
  rep = roundtrip(conn, buf);
  CHECK(rep.id == 8);
  CHECK(rep.code == 0);
  // An oversize length prefix: one error reply, then the node closes.
  client_conn big;
  REQUIRE(big.connect("127.0.0.1", port, 5s).empty());
  std::vector<char> hdr{'\x7f', '\xff', '\xff', '\xff'};
  REQUIRE(big.send_frames(hdr).empty());
  client_reply r2;
  REQUIRE(big.read_reply(r2, 5s).empty());
  CHECK(r2.code == static_cast<uint8_t>(errc::frame_too_large));
  CHECK(!big.read_reply(r2, 5s).empty()); // closed by the node
  CHECK_FALSE(big.timed_out());
  // Truncated frame, then the client goes away: nothing breaks.
  {
    client_conn trunc;
    REQUIRE(trunc.connect("127.0.0.1", port, 5s).empty());
    auto f = raw_frame("\x81\xa2id\x01");
    f.resize(f.size() - 2);
    REQUIRE(trunc.send_frames(f).empty());
  }
  // Other connections were never affected.
  auto res = run_load(port, "echo", 100, 2, 8, 30s);
  REQUIRE(res.replies.size() == 100);
  for (auto& [id, rs] : res.replies)
    CHECK(rs[0].code == 0);
}

TEST_CASE("SIGTERM drains a coordinator: no new connections, shutting_down "
          "for new requests, the result for the one in flight, exit 0") {
  temp_dir dir;
  node_process node{dir.path(),
                    "all",
                    {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
                     "--model.sleep.fixed-us=3000000",
                     "--model.sleep.per-item-us=0"}};
  auto port = node.client_port();
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", port, 5s).empty());
  auto send = [&](uint64_t id, const std::string& model) {
    client_request req;
    req.id = id;
    req.model = model;
    req.inputs = inputs_for(id);
    req.cache = false;
    std::vector<char> buf;
    append_request(buf, req);
    REQUIRE(conn.send_frames(buf).empty());
  };
  // One request runs for 3 s; wait until the coordinator holds it.
  send(1, "sleep");
  REQUIRE(wait_inflight(port, 1));
  node.signal(SIGTERM);
  // New requests on the open connection are refused once the drain began
  // (before that they are answered normally).
  client_reply rep;
  uint64_t id = 100;
  auto until = std::chrono::steady_clock::now() + 5s;
  do {
    REQUIRE(std::chrono::steady_clock::now() < until);
    send(++id, "echo");
    REQUIRE(conn.read_reply(rep, 5s).empty());
    REQUIRE(rep.id == id); // the sleep request is still running
  } while (rep.code == 0);
  CHECK(rep.code == static_cast<uint8_t>(errc::shutting_down));
  // The listening socket is closed: new connections are refused.
  bool refused = false;
  until = std::chrono::steady_clock::now() + 3s;
  while (!refused && std::chrono::steady_clock::now() < until) {
    client_conn late;
    refused = !late.connect("127.0.0.1", port, 200ms).empty();
  }
  CHECK(refused);
  // The request accepted before the drain still gets its result.
  REQUIRE(conn.read_reply(rep, 10s).empty());
  CHECK(rep.id == 1);
  CHECK(rep.code == 0);
  CHECK(rep.outputs.size() > 0);
  CHECK(node.wait_exit(15s) == 0);
}

TEST_CASE("SIGTERM with 256 requests in flight on 8 connections: each gets "
          "its result before the node closes the connection") {
  temp_dir dir;
  node_process node{dir.path(),
                    "all",
                    {"--role=all", "--client-port=0", "--listen=127.0.0.1:0",
                     "--model.sleep.fixed-us=500000",
                     "--model.sleep.per-item-us=0"}};
  auto port = node.client_port();
  constexpr uint64_t conns = 8;
  constexpr uint64_t depth = 32;
  std::vector<std::unique_ptr<client_conn>> cs;
  for (uint64_t c = 0; c < conns; ++c) {
    cs.push_back(std::make_unique<client_conn>());
    REQUIRE(cs.back()->connect("127.0.0.1", port, 5s).empty());
    std::vector<char> buf;
    for (uint64_t k = 0; k < depth; ++k) {
      client_request req;
      req.id = c * depth + k + 1;
      req.model = "sleep";
      req.inputs = inputs_for(req.id);
      req.cache = false;
      append_request(buf, req);
    }
    REQUIRE(cs.back()->send_frames(buf).empty());
  }
  // All of them are accepted before the signal.
  REQUIRE(wait_inflight(port, conns * depth));
  node.signal(SIGTERM);
  std::map<uint64_t, int> seen;
  for (auto& c : cs) {
    client_reply rep;
    for (uint64_t k = 0; k < depth; ++k) {
      auto err = c->read_reply(rep, 10s);
      REQUIRE_MESSAGE(err.empty(), err);
      CHECK(rep.code == 0);
      ++seen[rep.id];
    }
  }
  CHECK(seen.size() == conns * depth);
  for (auto& [id, n] : seen)
    CHECK(n == 1);
  CHECK(node.wait_exit(15s) == 0);
}
