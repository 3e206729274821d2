// Cluster tests of streamed generation with the synthetic `tokens` backend:
// real coordinator and worker processes, real sockets.

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "harness.hpp"
#include "messages/errc.hpp"
#include "runtime/client_conn.hpp"
#include "streams.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// Per decode step of `tokens`, in microseconds.
std::vector<std::string> model_args(uint32_t step_us, uint64_t kv_bytes = 0) {
  std::vector<std::string> out{"--model.tokens.fixed-us=" +
                                   std::to_string(step_us),
                               "--model.tokens.per-item-us=0"};
  if (kv_bytes > 0)
    out.push_back("--model.tokens.kv-cache-bytes=" + std::to_string(kv_bytes));
  return out;
}

std::vector<std::string> coordinator_args(const std::vector<std::string>& m) {
  std::vector<std::string> out{
      "--role=coordinator", "--client-port=0", "--listen=127.0.0.1:0",
      "--heartbeat-interval-ms=100", "--connection-timeout-ms=1000"};
  out.insert(out.end(), m.begin(), m.end());
  return out;
}

std::vector<std::string> worker_args(const node_process& coord,
                                     const std::string& name,
                                     const std::vector<std::string>& m) {
  std::vector<std::string> out{"--role=worker",
                               "--join=127.0.0.1:" +
                                   std::to_string(coord.cluster_port()),
                               "--name=" + name,
                               "--models=tokens",
                               "--heartbeat-interval-ms=100",
                               "--connection-timeout-ms=1000"};
  out.insert(out.end(), m.begin(), m.end());
  return out;
}

client_request gen_request(uint64_t id, const std::string& prompt,
                           uint32_t max_tokens, bool stream) {
  client_request r;
  r.id = id;
  r.model = "tokens";
  r.stream = stream;
  r.cache = false;
  auto b =
      json::to_msgpack(json{{"prompt", prompt}, {"max_tokens", max_tokens}});
  r.inputs.assign(b.begin(), b.end());
  return r;
}

/// The stats entry of worker `name` (null if absent).
json worker_entry(uint16_t port, const std::string& name) {
  auto stats = op(port, op_code::stats); // outlives the loop
  for (auto& w : stats["workers"])
    if (w["name"] == name)
      return w;
  return nullptr;
}

/// Polls `stats` until worker `name` reports a KV pool with no block in
/// use (as of its last result); false after 5 s.
bool wait_blocks_free(uint16_t port, const std::string& name) {
  for (int i = 0; i < 250; ++i) {
    auto w = worker_entry(port, name);
    if (w.is_object() && w.value("kv_blocks_total", 0) > 0 &&
        w.value("kv_blocks_used", 1) == 0 && w.value("seqs_running", 1) == 0)
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string expected_text(uint32_t n) {
  std::string s;
  for (uint32_t i = 0; i < n; ++i)
    s += "t" + std::to_string(i) + " ";
  return s;
}

} // namespace

TEST_CASE("16 concurrent streams across two worker processes arrive "
          "complete, in order, with exactly one done frame each") {
  temp_dir dir;
  auto m = model_args(2000);
  node_process coord{dir.path(), "coord", coordinator_args(m)};
  node_process w1{dir.path(), "w1", worker_args(coord, "w1", m)};
  node_process w2{dir.path(), "w2", worker_args(coord, "w2", m)};
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", coord.client_port(), 5s).empty());
  constexpr uint32_t n = 24;
  for (uint64_t id = 1; id <= 16; ++id)
    send(conn, gen_request(id, "prompt " + std::to_string(id), n, true));
  auto got = read_until_done(conn, 16, 60s);
  REQUIRE(got.size() == 16);
  std::set<std::string> workers;
  for (auto& [id, rec] : got) {
    CAPTURE(id);
    REQUIRE(rec.finals.size() == 1);
    auto& fin = rec.finals.front();
    CHECK(fin.code == 0);
    CHECK(fin.frame == reply_frame::last);
    workers.insert(fin.worker);
    auto out = json::from_msgpack(fin.outputs);
    CHECK(out["finish_reason"] == "length");
    CHECK(out["usage"]["completion_tokens"] == n);
    CHECK_FALSE(out.contains("text")); // the chunks carried it
    std::string text;
    for (auto& t : rec.texts)
      text += t;
    CHECK(text == expected_text(n));
    REQUIRE(rec.tokens.size() == n);
    for (size_t k = 1; k < rec.tokens.size(); ++k)
      CHECK(rec.tokens[k] == rec.tokens[0] + static_cast<int64_t>(k));
    CHECK(fin.times.ttft_us > 0);
    CHECK(fin.times.ttft_us <= fin.times.total_us);
  }
  CHECK(workers == std::set<std::string>{"w1", "w2"});
  // Nothing more arrives: no frame after the done frames.
  client_reply extra;
  CHECK_FALSE(conn.read_reply(extra, 300ms).empty());
  CHECK(conn.timed_out());
  CHECK(wait_blocks_free(coord.client_port(), "w1"));
  CHECK(wait_blocks_free(coord.client_port(), "w2"));
}

TEST_CASE("cancel ends a stream at once and frees its KV blocks") {
  temp_dir dir;
  auto m = model_args(10000); // 10 ms per token: 500 tokens take 5 s
  node_process coord{dir.path(), "coord", coordinator_args(m)};
  node_process w1{dir.path(), "w1", worker_args(coord, "w1", m)};
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", coord.client_port(), 5s).empty());
  send(conn, gen_request(7, "long", 500, true));
  for (int i = 0; i < 3; ++i) {
    auto r = next_frame(conn);
    REQUIRE(r.id == 7);
    REQUIRE(r.frame == reply_frame::chunk);
  }
  client_request cancel;
  cancel.id = 8;
  cancel.op = op_code::cancel;
  cancel.target = 7;
  send(conn, cancel);
  // The stream's done frame (chunks may still precede it), then the op's
  // reply.
  client_reply r;
  for (int i = 0; i < 100; ++i) {
    r = next_frame(conn);
    if (r.frame != reply_frame::chunk)
      break;
  }
  CHECK(r.id == 7);
  CHECK(r.code == 0);
  CHECK(r.frame == reply_frame::last);
  CHECK(json::from_msgpack(r.outputs)["finish_reason"] == "cancelled");
  auto ack = next_frame(conn);
  CHECK(ack.id == 8);
  CHECK(json::from_msgpack(ack.outputs)["cancelled"] == true);
  CHECK(wait_blocks_free(coord.client_port(), "w1"));
  CHECK(wait_inflight(coord.client_port(), 0));
  // Cancelling what is not in flight says so.
  send(conn, cancel);
  auto again = next_frame(conn);
  CHECK(again.id == 8);
  CHECK(json::from_msgpack(again.outputs)["cancelled"] == false);
}

TEST_CASE("a client that disconnects cancels its streams") {
  temp_dir dir;
  auto m = model_args(10000);
  node_process coord{dir.path(), "coord", coordinator_args(m)};
  node_process w1{dir.path(), "w1", worker_args(coord, "w1", m)};
  {
    client_conn conn;
    REQUIRE(conn.connect("127.0.0.1", coord.client_port(), 5s).empty());
    send(conn, gen_request(1, "a", 500, true));
    send(conn, gen_request(2, "b", 500, true));
    for (int i = 0; i < 4; ++i)
      REQUIRE(next_frame(conn).frame == reply_frame::chunk);
  } // closed here, 5 s before the streams would end
  CHECK(wait_inflight(coord.client_port(), 0));
  CHECK(wait_blocks_free(coord.client_port(), "w1"));
}

TEST_CASE("SIGKILL of a worker mid-generation: a started stream ends with "
          "worker_lost, a non-streamed request is retried and correct") {
  temp_dir dir;
  auto m = model_args(10000); // 100 tokens take 1 s
  node_process coord{dir.path(), "coord", coordinator_args(m)};
  auto w1 = std::make_unique<node_process>(dir.path(), "w1",
                                           worker_args(coord, "w1", m));
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", coord.client_port(), 5s).empty());
  send(conn, gen_request(1, "streamed", 100, true));
  send(conn, gen_request(2, "whole", 100, false));
  std::vector<std::string> texts;
  for (int i = 0; i < 3; ++i) {
    auto r = next_frame(conn);
    REQUIRE(r.id == 1);
    REQUIRE(r.frame == reply_frame::chunk);
    texts.push_back(json::from_msgpack(r.outputs)["text"]);
  }
  // Both run on w1 now; w2 joins, then w1 dies.
  node_process w2{dir.path(), "w2", worker_args(coord, "w2", m)};
  for (int i = 0;
       i < 250 &&
       op(coord.client_port(), op_code::health).value("workers", 0) < 2;
       ++i)
    std::this_thread::sleep_for(20ms);
  w1->kill_now();
  auto got = read_until_done(conn, 2, 30s);
  REQUIRE(got[1].finals.size() == 1);
  auto& lost = got[1].finals.front();
  CHECK(lost.frame == reply_frame::last);
  CHECK(lost.code == static_cast<uint8_t>(errc::worker_lost));
  // No token twice: the chunks before and after the kill continue t0, t1...
  for (auto& t : got[1].texts)
    texts.push_back(t);
  for (size_t k = 0; k < texts.size(); ++k)
    CHECK(texts[k] == "t" + std::to_string(k) + " ");
  REQUIRE(got[2].finals.size() == 1);
  auto& whole = got[2].finals.front();
  CHECK(whole.code == 0);
  CHECK(whole.frame == reply_frame::single);
  CHECK(whole.worker == "w2");
  CHECK(got[2].texts.empty());
  auto out = json::from_msgpack(whole.outputs);
  CHECK(out["text"] == expected_text(100));
  CHECK(wait_blocks_free(coord.client_port(), "w2"));
}

TEST_CASE("a full KV pool queues a request, then answers overloaded, and "
          "every block returns") {
  temp_dir dir;
  // 4 blocks of 16 tokens; prompt 1 + 40 tokens needs 3: one at a time.
  auto m = model_args(50000, 4 * 1024); // 40 tokens take 2 s
  node_process coord{dir.path(), "coord", coordinator_args(m)};
  node_process w1{dir.path(), "w1", worker_args(coord, "w1", m)};
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", coord.client_port(), 5s).empty());
  send(conn, gen_request(1, "a", 40, false));
  auto queued = gen_request(2, "b", 40, false);
  queued.deadline_ms = 1000; // gives up waiting long before 1 ends
  send(conn, queued);
  send(conn, gen_request(3, "c", 40, false)); // waits for 1, then runs
  auto got = read_until_done(conn, 3, 30s);
  REQUIRE(got[2].finals.size() == 1);
  CHECK(got[2].finals.front().code == static_cast<uint8_t>(errc::overloaded));
  REQUIRE(got[1].finals.size() == 1);
  CHECK(got[1].finals.front().code == 0);
  REQUIRE(got[3].finals.size() == 1);
  CHECK(got[3].finals.front().code == 0);
  CHECK(json::from_msgpack(got[3].finals.front().outputs)["text"] ==
        expected_text(40));
  CHECK(wait_blocks_free(coord.client_port(), "w1"));
  auto w = worker_entry(coord.client_port(), "w1");
  CHECK(w["kv_blocks_total"] == 4);
}

TEST_CASE("a stream past its deadline ends with one deadline_exceeded frame "
          "and its sequence is freed") {
  temp_dir dir;
  auto m = model_args(10000); // 500 tokens would take 5 s
  node_process coord{dir.path(), "coord", coordinator_args(m)};
  node_process w1{dir.path(), "w1", worker_args(coord, "w1", m)};
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", coord.client_port(), 5s).empty());
  auto r = gen_request(1, "slow", 500, true);
  r.deadline_ms = 500;
  send(conn, r);
  send(conn, gen_request(2, "whole", 500, false)); // not streamed
  auto got = read_until_done(conn, 1, 10s);        // the stream's end
  REQUIRE(got[1].finals.size() == 1);
  CHECK(got[1].finals.front().frame == reply_frame::last);
  CHECK(got[1].finals.front().code ==
        static_cast<uint8_t>(errc::deadline_exceeded));
  CHECK_FALSE(got[1].texts.empty()); // it streamed until then
  // Cancel the non-streamed one too: it is not a stream, so the op says
  // so, and it still gets its one reply later.
  client_request cancel;
  cancel.id = 3;
  cancel.op = op_code::cancel;
  cancel.target = 2;
  send(conn, cancel);
  auto rest = read_until_done(conn, 2, 20s);
  REQUIRE(rest[3].finals.size() == 1);
  CHECK(json::from_msgpack(rest[3].finals.front().outputs)["cancelled"] ==
        false);
  REQUIRE(rest[2].finals.size() == 1);
  CHECK(rest[2].finals.front().code == 0);
  CHECK(rest[2].finals.front().frame == reply_frame::single);
  CHECK(rest[1].finals.empty()); // nothing after the stream's final frame
  CHECK(wait_blocks_free(coord.client_port(), "w1"));
}
