// The `fault` op's inputs (runtime/ops_encode.hpp, decode_fault_spec): the
// values are held to the same bounds as the config keys.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "messages/errc.hpp"
#include "runtime/ops_encode.hpp"

using namespace dine;

namespace {

caf::expected<fault_spec> decode(const nlohmann::json& j) {
  auto bytes = nlohmann::json::to_msgpack(j);
  return decode_fault_spec({bytes.begin(), bytes.end()});
}

} // namespace

TEST_CASE("fault spec: slow_ms is held to max_fault_slow_ms") {
  auto ok = decode({{"kind", "slow"}, {"slow_ms", max_fault_slow_ms}});
  REQUIRE(ok);
  CHECK(ok->slow_ms == max_fault_slow_ms);
  auto big = decode({{"kind", "slow"}, {"slow_ms", 4294967295u}});
  REQUIRE_FALSE(big);
  CHECK(classify(big.error()).first == errc::invalid_request);
  CHECK(classify(big.error()).second.find("slow_ms") != std::string::npos);
  CHECK_FALSE(decode({{"kind", "slow"}, {"slow_ms", max_fault_slow_ms + 1}}));
}

TEST_CASE("fault spec: kind is required, rate is 0 to 1") {
  CHECK_FALSE(decode({{"model", "echo"}}));
  CHECK_FALSE(decode({{"kind", "crash"}, {"rate", 1.5}}));
  auto off = decode({{"kind", "off"}});
  REQUIRE(off);
  CHECK(off->kind == fault_kind::off);
  CHECK(off->model.empty());
}
