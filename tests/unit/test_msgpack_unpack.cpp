// safe_unpack: msgpack-c behind a validating pass and unpack limits.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "messages/errc.hpp"
#include "runtime/msgpack_reader.hpp"
#include "runtime/msgpack_unpack.hpp"

using namespace dine;

TEST_CASE("safe_unpack returns msgpack-c objects for valid input") {
  msgpack::sbuffer buf;
  msgpack::pack(buf, std::map<std::string, std::vector<int>>{{"a", {1, 2}}});
  msgpack::zone z;
  auto obj =
      safe_unpack(z, reinterpret_cast<const uint8_t*>(buf.data()), buf.size());
  REQUIRE(obj);
  auto m = obj->as<std::map<std::string, std::vector<int>>>();
  CHECK(m.at("a") == std::vector<int>{1, 2});
}

TEST_CASE("safe_unpack rejects hostile counts before msgpack-c allocates") {
  // array32 claiming 4294967295 elements, followed by one element.
  const uint8_t huge_array[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
  msgpack::zone z;
  auto obj = safe_unpack(z, huge_array, sizeof(huge_array));
  REQUIRE_FALSE(obj);
  CHECK(obj.error().category() == errc_category);
  // map32 and str32 likewise.
  const uint8_t huge_map[] = {0xdf, 0x7f, 0xff, 0xff, 0xff, 0x01, 0x01};
  CHECK_FALSE(safe_unpack(z, huge_map, sizeof(huge_map)));
  const uint8_t huge_str[] = {0xdb, 0xff, 0xff, 0xff, 0xf0, 'a'};
  CHECK_FALSE(safe_unpack(z, huge_str, sizeof(huge_str)));
}

TEST_CASE("safe_unpack enforces the depth limit and rejects garbage") {
  std::vector<uint8_t> deep(40, 0x91); // 40 nested one-element arrays
  deep.push_back(0x01);
  msgpack::zone z;
  CHECK_FALSE(safe_unpack(z, deep.data(), deep.size(), 32));
  CHECK(safe_unpack(z, deep.data(), deep.size(), 64));
  const uint8_t never_used[] = {0xc1};
  CHECK_FALSE(safe_unpack(z, never_used, 1));
  CHECK_FALSE(safe_unpack(z, never_used, 0));
}

TEST_CASE("find_map_key positions the reader at a key's value") {
  auto bytes = [](const nlohmann::json& j) {
    auto b = nlohmann::json::to_msgpack(j);
    return std::vector<uint8_t>{b.begin(), b.end()};
  };
  auto in = bytes({{"a", 1}, {"b", "x"}});
  msgpack_reader rd{in.data(), in.size()};
  REQUIRE(find_map_key(rd, "b"));
  std::string_view s;
  CHECK((rd.read_str(s) && s == "x"));
  msgpack_reader absent{in.data(), in.size()};
  CHECK_FALSE(find_map_key(absent, "c"));
  CHECK(absent.ok());
  auto arr = bytes({1, 2});
  msgpack_reader not_map{arr.data(), arr.size()};
  CHECK_FALSE(find_map_key(not_map, "a"));
  std::vector<uint8_t> cut{0x82, 0xa1, 'a'}; // truncated
  msgpack_reader bad{cut.data(), cut.size()};
  CHECK_FALSE(find_map_key(bad, "b"));
  CHECK_FALSE(bad.ok());
}
