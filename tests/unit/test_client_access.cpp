// Client-port access (docs/security.md, "Client port"): API keys
// (runtime/api_keys.hpp), connection limits (runtime/conn_limits.hpp), the
// memory budget (runtime/memory_budget.hpp) and the stats entry
// (runtime/front_stats.hpp).

#include <doctest/doctest.h>

#include <msgpack.hpp>

#include "messages/errc.hpp"
#include "runtime/api_keys.hpp"
#include "runtime/conn_limits.hpp"
#include "runtime/front_stats.hpp"
#include "runtime/memory_budget.hpp"
#include "runtime/wire.hpp"

using namespace dine;

namespace {

const std::string admin_key = "admin-key-0123456789abcdef";
const std::string user_key = "user-key-0123456789abcdef";

api_keys two_keys() {
  auto keys = api_keys::parse("# keys\n\nadmin " + admin_key + "\nuser " +
                                  user_key + "\r\n",
                              "keys.txt");
  REQUIRE(keys);
  return std::move(*keys);
}

} // namespace

TEST_CASE("api keys: the right key gives its role, anything else none") {
  auto keys = two_keys();
  CHECK(keys.enabled());
  CHECK(keys.size() == 2);
  CHECK(keys.check(admin_key) == key_role::admin);
  CHECK(keys.check(user_key) == key_role::user);
  CHECK(keys.check("") == key_role::none);
  CHECK(keys.check(admin_key.substr(0, admin_key.size() - 1)) ==
        key_role::none);
  CHECK(keys.check(admin_key + "x") == key_role::none);
  auto flipped = admin_key;
  flipped[0] = 'A';
  CHECK(keys.check(flipped) == key_role::none);
  CHECK(keys.initial_role() == key_role::none);
  CHECK(api_keys{}.initial_role() == key_role::admin);
  CHECK(api_keys{}.check(admin_key) == key_role::none);
}

TEST_CASE("api keys: match names which key matched, 0 for none") {
  auto keys = two_keys();
  REQUIRE(keys.add("user-key-second-0123456789", key_role::user));
  auto a = keys.match(admin_key);
  CHECK(a.role == key_role::admin);
  CHECK(a.key == 1);
  CHECK(keys.match(user_key).key == 2);
  auto b = keys.match("user-key-second-0123456789");
  CHECK(b.role == key_role::user);
  CHECK(b.key == 3);
  auto none = keys.match(user_key + "x");
  CHECK(none.role == key_role::none);
  CHECK(none.key == 0);
  CHECK(api_keys{}.match(user_key).key == 0);
}

TEST_CASE("api keys: users may infer, only admins may run stats and fault") {
  for (auto op : {op_code::infer, op_code::cancel, op_code::health,
                  op_code::models, op_code::hello})
    CHECK(api_keys::allows(key_role::user, op));
  for (auto op : {op_code::stats, op_code::fault}) {
    CHECK_FALSE(api_keys::allows(key_role::user, op));
    CHECK(api_keys::allows(key_role::admin, op));
  }
  CHECK(api_keys::allows(key_role::none, op_code::hello));
  CHECK_FALSE(api_keys::allows(key_role::none, op_code::infer));
  CHECK_FALSE(api_keys::allows(key_role::none, op_code::health));
}

TEST_CASE("api keys: a bad key file names the file and line") {
  auto bad_role = api_keys::parse("root " + admin_key + "\n", "k.txt");
  REQUIRE_FALSE(bad_role);
  CHECK(classify(bad_role.error()).first == errc::invalid_config);
  CHECK(classify(bad_role.error()).second.find("k.txt:1") != std::string::npos);
  auto short_key = api_keys::parse("\nuser short\n", "k.txt");
  REQUIRE_FALSE(short_key);
  CHECK(classify(short_key.error()).second.find("k.txt:2") !=
        std::string::npos);
  CHECK_FALSE(api_keys::parse("admin\n", "k.txt"));
  CHECK_FALSE(api_keys::parse("admin a b\n", "k.txt"));
  CHECK_FALSE(api_keys::parse("# nothing\n", "k.txt"));
  CHECK_FALSE(api_keys::load("/nonexistent/dine-keys"));
}

TEST_CASE("api keys: hello carries auth on the wire and the role comes back") {
  client_request req;
  req.id = 7;
  req.op = op_code::hello;
  req.auth = user_key;
  std::vector<char> buf;
  append_request(buf, req);
  client_request back;
  decode_request(buf.data() + 4, buf.size() - 4, back);
  CHECK(back.error == 0);
  CHECK(back.op == op_code::hello);
  CHECK(back.auth == user_key);
  auto role = encode_role(key_role::admin);
  auto obj =
      msgpack::unpack(reinterpret_cast<const char*>(role.data()), role.size());
  auto m = obj.get().as<std::map<std::string, std::string>>();
  CHECK(m["role"] == "admin");
}

TEST_CASE("conn limits: total and per address, released on close") {
  conn_limits lim{3, 2};
  std::string why;
  CHECK(lim.admit("10.0.0.1", why) == errc::none);
  CHECK(lim.admit("10.0.0.1", why) == errc::none);
  CHECK(lim.admit("10.0.0.1", why) == errc::too_many_connections);
  CHECK(why.find("max-connections-per-address") != std::string::npos);
  CHECK(lim.admit("10.0.0.2", why) == errc::none);
  CHECK(lim.admit("10.0.0.3", why) == errc::too_many_connections);
  CHECK(why.find("max-connections (3)") != std::string::npos);
  CHECK(lim.open() == 3);
  CHECK(lim.refused() == 2);
  lim.release("10.0.0.1");
  CHECK(lim.admit("10.0.0.3", why) == errc::none);
  CHECK(lim.admit("10.0.0.1", why) == errc::too_many_connections);
  conn_limits none{0, 0};
  for (int i = 0; i < 1000; ++i)
    CHECK(none.admit("x", why) == errc::none);
}

TEST_CASE("memory budget: the largest holders are shed until the rest fits") {
  memory_budget b{100};
  CHECK(b.update(1, 30).empty());
  CHECK(b.update(2, 50).empty());
  CHECK(b.update(3, 10).empty());
  CHECK(b.total() == 90);
  // 1 + 2 + 3 + 4 = 130: shedding 2 (50) leaves 80.
  auto v = b.update(4, 40);
  REQUIRE(v.size() == 1);
  CHECK(v[0] == 2);
  // A shed holder is returned once. Its requests still in flight stay in
  // memory and count: 30 + 20 + 10 + 40 = 100 fits.
  CHECK(b.update(2, 20).empty());
  CHECK(b.update(2, 20).empty());
  CHECK(b.total() == 100);
  // 30 + 20 + 15 + 40 = 105: the largest live holder (4) goes, not 2.
  v = b.update(3, 15);
  REQUIRE(v.size() == 1);
  CHECK(v[0] == 4);
  b.remove(2);
  b.remove(4);
  CHECK(b.total() == 45);
  CHECK(b.shed_count() == 2);
  // One holder past the limit alone sheds itself.
  v = b.update(5, 200);
  REQUIRE(v.size() == 1);
  CHECK(v[0] == 5);
  memory_budget off{0};
  CHECK(off.update(1, size_t{1} << 40).empty());
}

TEST_CASE("memory budget: holders below a 64th of the limit are never shed") {
  memory_budget b{6400}; // holders below 100 bytes stay
  CHECK(b.update(1, 50).empty());
  CHECK(b.update(2, 99).empty());
  auto v = b.update(3, 7000);
  REQUIRE(v.size() == 1);
  CHECK(v[0] == 3);
  // 3 lingers with its requests in flight; the small ones are not shed
  // although the total is past the limit, and a large one is.
  CHECK(b.update(3, 6400).empty());
  CHECK(b.update(4, 99).empty());
  CHECK(b.total() > b.limit());
  v = b.update(5, 100);
  REQUIRE(v.size() == 1);
  CHECK(v[0] == 5);
}

TEST_CASE("front stats: the client_port entry joins the stats map") {
  msgpack::sbuffer sb;
  msgpack::packer<msgpack::sbuffer> pk{sb};
  pk.pack_map(1);
  pk.pack("requests");
  pk.pack(5);
  std::vector<uint8_t> stats(sb.data(), sb.data() + sb.size());
  front_stats s;
  s.refused = 3;
  s.unauthorized = 2;
  s.shed = 1;
  REQUIRE(add_front_stats(stats, s, 1234, 1u << 20));
  auto obj = msgpack::unpack(reinterpret_cast<const char*>(stats.data()),
                             stats.size());
  auto m = obj.get().as<std::map<std::string, msgpack::object>>();
  CHECK(m["requests"].as<int>() == 5);
  auto cp = m["client_port"].as<std::map<std::string, uint64_t>>();
  CHECK(cp["refused_connections"] == 3);
  CHECK(cp["unauthorized"] == 2);
  CHECK(cp["shed"] == 1);
  CHECK(cp["buffered_bytes"] == 1234);
  CHECK(cp["memory_budget_bytes"] == 1u << 20);
  std::vector<uint8_t> not_a_map{0x01};
  CHECK_FALSE(add_front_stats(not_a_map, s, 0, 0));
  CHECK(not_a_map.size() == 1);
}
