// Balancing and the built-in model backends.

#include <doctest/doctest.h>

#include <msgpack.hpp>

#include "messages/errc.hpp"
#include "runtime/balancer.hpp"
#include "runtime/model_backend.hpp"

using namespace dine;
using namespace std::chrono_literals;

TEST_CASE("round_robin takes workers with free slots in turn") {
  round_robin rr;
  std::vector<worker_view> pool(3);
  CHECK(rr.pick(pool) == 0);
  CHECK(rr.pick(pool) == 1);
  CHECK(rr.pick(pool) == 2);
  CHECK(rr.pick(pool) == 0);
  pool[1].outstanding = pool[1].capacity; // busy
  CHECK(rr.pick(pool) == 2);
  CHECK(rr.pick(pool) == 0);
  pool[0].healthy = false;
  pool[2].outstanding = 1;
  CHECK(rr.pick(pool) == balancer::none);
  CHECK(rr.pick({}) == balancer::none);
  CHECK(make_balancer("round_robin"));
  CHECK_FALSE(make_balancer("telepathy"));
}

namespace {

std::vector<batch_item> items(size_t n) {
  std::vector<batch_item> out;
  for (size_t i = 0; i < n; ++i) {
    msgpack::sbuffer buf;
    msgpack::pack(buf, static_cast<uint64_t>(i * 1000));
    out.push_back({i, {buf.data(), buf.data() + buf.size()}});
  }
  return out;
}

} // namespace

TEST_CASE("echo returns each input") {
  model_config mc;
  mc.backend = "echo";
  auto b = make_backend(mc);
  REQUIRE(b);
  auto in = items(5);
  auto expected = items(5);
  std::vector<item_result> out(in.size());
  (*b)->run(in, out);
  for (size_t i = 0; i < in.size(); ++i)
    CHECK(out[i].outputs == expected[i].inputs);
}

TEST_CASE("cost computes fnv1a of each input and takes its modelled time") {
  model_config mc;
  mc.backend = "cost";
  mc.fixed_us = 3000;
  mc.per_item_us = 100;
  auto b = make_backend(mc);
  REQUIRE(b);
  auto in = items(10);
  std::vector<item_result> out(in.size());
  auto start = std::chrono::steady_clock::now();
  (*b)->run(in, out);
  auto spent = std::chrono::steady_clock::now() - start;
  // A lower bound only: it spins at least fixed + per_item * n.
  CHECK(spent >= 4000us);
  for (size_t i = 0; i < in.size(); ++i) {
    auto h =
        msgpack::unpack(reinterpret_cast<const char*>(out[i].outputs.data()),
                        out[i].outputs.size());
    auto m = h.get().as<std::map<std::string, uint64_t>>();
    CHECK(m.at("fnv1a") == fnv1a(in[i].inputs.data(), in[i].inputs.size()));
  }
  CHECK((*b)->delay(10) == 0us);
}

TEST_CASE("sleep defers instead of spinning") {
  model_config mc;
  mc.backend = "sleep";
  mc.fixed_us = 2000;
  mc.per_item_us = 50;
  auto b = make_backend(mc);
  REQUIRE(b);
  CHECK((*b)->delay(4) == 2200us);
  auto in = items(2);
  std::vector<item_result> out(2);
  (*b)->run(in, out);
  CHECK_FALSE(out[0].outputs.empty());
  mc.backend = "gpu";
  CHECK_FALSE(make_backend(mc));
}

TEST_CASE("fnv1a matches the published test vectors") {
  CHECK(fnv1a(nullptr, 0) == 14695981039346656037ull);
  const uint8_t a[] = {'a'};
  CHECK(fnv1a(a, 1) == 0xaf63dc4c8601ec8cull);
}

TEST_CASE("cost reports a per-item error without failing the batch") {
  model_config mc;
  mc.backend = "cost";
  mc.fixed_us = 0;
  mc.per_item_us = 0;
  auto b = make_backend(mc);
  REQUIRE(b);
  auto in = items(3);
  msgpack::sbuffer buf;
  msgpack::pack(buf, std::map<std::string, int>{{"invalid", 1}});
  in[1].inputs.assign(buf.data(), buf.data() + buf.size());
  std::vector<item_result> out(3);
  (*b)->run(in, out);
  CHECK(out[0].code == 0);
  CHECK(out[1].code == static_cast<uint8_t>(errc::invalid_input));
  CHECK(out[1].outputs.empty());
  CHECK(out[2].code == 0);
  CHECK_FALSE(out[2].outputs.empty());
}
