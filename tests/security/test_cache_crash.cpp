// The cache's crash promise (docs/operations.md, "cache-flush-us"): with
// `--cache-flush-us=0` a result is committed to LMDB before its reply goes
// out, so every reply a client received is served from the cache after a
// kill -9 of the node. Real process, real LMDB file, real SIGKILL.

#include <doctest/doctest.h>

#include <signal.h>

#include <set>
#include <string>
#include <vector>

#include "../cluster/harness.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;

namespace {

client_request echo_request(uint64_t id) {
  client_request r;
  r.id = id;
  r.model = "echo";
  r.inputs = inputs_for(id);
  return r;
}

std::vector<std::string> node_args(const std::string& cache_dir,
                                   const std::string& flush_us) {
  return {"--role=all", "--client-port=0", "--cache-dir=" + cache_dir,
          "--cache-flush-us=" + flush_us};
}

struct crash_result {
  size_t acked = 0; ///< Ok replies the client received before the kill.
  size_t lost = 0;  ///< Of those, not served from the cache afterwards.
};

/// Pipelines `n` distinct cacheable echo requests, SIGKILLs the node right
/// after the `n / 2`-th ok reply arrived, reads every reply the node sent
/// before it died, restarts it on the same cache directory and asks each
/// acknowledged request again.
crash_result kill_mid_stream(const std::string& flush_us, size_t n) {
  temp_dir dir;
  auto cache_dir = dir.path() + "/cache";
  std::set<uint64_t> acked;
  {
    node_process node{dir.path(), "n1", node_args(cache_dir, flush_us)};
    client_conn conn;
    REQUIRE(conn.connect("127.0.0.1", node.client_port(), 5s).empty());
    std::vector<char> buf;
    for (uint64_t id = 1; id <= n; ++id)
      append_request(buf, echo_request(id));
    REQUIRE(conn.send_frames(buf, 30s).empty());
    bool killed = false;
    for (;;) {
      client_reply rep;
      if (!conn.read_reply(rep, killed ? 2s : 30s).empty())
        break; // the node is gone and its last replies were read
      REQUIRE(rep.code == 0);
      CHECK_FALSE(rep.cached);
      acked.insert(rep.id);
      if (!killed && acked.size() == n / 2) {
        node.signal(SIGKILL);
        killed = true;
      }
    }
    REQUIRE(killed);
    node.wait_exit(10s);
  }
  node_process again{dir.path(), "n2", node_args(cache_dir, flush_us)};
  crash_result res;
  res.acked = acked.size();
  for (auto id : acked) {
    auto rep = call(again.client_port(), echo_request(id));
    REQUIRE(rep.code == 0);
    if (!rep.cached)
      ++res.lost;
  }
  return res;
}

} // namespace

TEST_CASE("with --cache-flush-us=0 every result a client received survives "
          "kill -9 of the node") {
  auto res = kill_mid_stream("0", 2000);
  MESSAGE("acknowledged " << res.acked << ", lost " << res.lost);
  CHECK(res.acked >= 1000);
  CHECK(res.lost == 0);
}
