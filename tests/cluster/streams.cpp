#include "streams.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "runtime/wire.hpp"

namespace dine::test {

using namespace std::chrono_literals;
using json = nlohmann::json;

std::map<uint64_t, received> read_until_done(client_conn& conn, size_t ids,
                                             std::chrono::seconds bound) {
  std::map<uint64_t, received> out;
  size_t done = 0;
  auto until = std::chrono::steady_clock::now() + bound;
  while (done < ids && std::chrono::steady_clock::now() < until) {
    client_reply r;
    auto err = conn.read_reply(r, 1s);
    if (!err.empty()) {
      if (conn.timed_out())
        continue;
      FAIL("read: " << err);
    }
    auto& rec = out[r.id];
    if (r.frame == reply_frame::chunk) {
      auto j = json::from_msgpack(r.outputs);
      rec.texts.push_back(j["text"].get<std::string>());
      for (auto& t : j["tokens"])
        rec.tokens.push_back(t.get<int64_t>());
    } else {
      rec.finals.push_back(std::move(r));
      ++done;
    }
  }
  return out;
}

client_reply next_frame(client_conn& conn) {
  client_reply r;
  auto err = conn.read_reply(r, 5s);
  REQUIRE(err.empty());
  return r;
}

void send(client_conn& conn, const client_request& r) {
  std::vector<char> buf;
  append_request(buf, r);
  REQUIRE(conn.send_frames(buf).empty());
}

} // namespace dine::test
