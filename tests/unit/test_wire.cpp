// Request/reply codec (runtime/wire.hpp) and the bounds-checked msgpack
// reader (runtime/msgpack_reader.hpp).

#include <doctest/doctest.h>

#include <cmath>
#include <deque>
#include <initializer_list>
#include <limits>
#include <string>

#include <msgpack.hpp>

#include "messages/errc.hpp"
#include "runtime/msgpack_reader.hpp"
#include "runtime/wire.hpp"

using namespace dine;

namespace {

/// Builds msgpack bytes with msgpack-c.
struct mp {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  mp& str(const std::string& s) {
    pk.pack(s);
    return *this;
  }
  template <class T>
  mp& val(const T& x) {
    pk.pack(x);
    return *this;
  }
  mp& raw(const std::string& bytes) {
    buf.write(bytes.data(), bytes.size());
    return *this;
  }
  mp& map(uint32_t n) {
    pk.pack_map(n);
    return *this;
  }
  mp& array(uint32_t n) {
    pk.pack_array(n);
    return *this;
  }
  std::string bytes() const { return std::string(buf.data(), buf.size()); }
};

std::string raw(std::initializer_list<int> xs) {
  std::string s;
  for (auto x : xs)
    s += static_cast<char>(x);
  return s;
}

client_request decode(const std::string& body) {
  client_request out;
  decode_request(body.data(), body.size(), out);
  return out;
}

std::vector<uint8_t> to_vec(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

errc code_of(const client_request& r) {
  return static_cast<errc>(r.error);
}

} // namespace

// -- decode_request: valid input ---------------------------------------------

TEST_CASE("decode_request reads every field") {
  auto inputs = mp{}.map(1).str("a").array(2).val(1).val(-2.5).bytes();
  mp b;
  b.map(9);
  b.str("id").val(uint64_t{1} << 40);
  b.str("op").str("infer");
  b.str("model").str("resnet");
  b.str("version").val(3);
  b.str("inputs").raw(inputs);
  b.str("key").str("user-17");
  b.str("cache").val(false);
  b.str("deadline_ms").val(250);
  b.str("priority").val(-5);
  auto body = b.bytes();
  auto r = decode(body);
  CHECK(r.error == 0);
  CHECK(r.error_message.empty());
  CHECK(r.id == uint64_t{1} << 40);
  CHECK(r.op == op_code::infer);
  CHECK(r.model == "resnet");
  CHECK(r.version == 3);
  CHECK(r.inputs == to_vec(inputs));
  CHECK(r.key == "user-17");
  CHECK(r.cache == false);
  CHECK(r.deadline_ms == 250);
  CHECK(r.priority == -5);
}

TEST_CASE("decode_request defaults and unknown keys") {
  auto r = decode(mp{}.map(3)
                      .str("model")
                      .str("m")
                      .str("future")
                      .array(0)
                      .str("id")
                      .val(9)
                      .bytes());
  CHECK(r.error == 0);
  CHECK(r.id == 9);
  CHECK(r.op == op_code::infer);
  CHECK(r.version == 0);
  CHECK(r.cache == true);
  CHECK(r.deadline_ms == 0);
  CHECK(r.priority == 0);
  CHECK(r.inputs == std::vector<uint8_t>{0xc0}); // nil
  auto h = decode(mp{}.map(2).str("id").val(1).str("op").str("stats").bytes());
  CHECK(h.error == 0);
  CHECK(h.op == op_code::stats);
}

TEST_CASE("decode_request resets a used request, decode_new_request fills a "
          "fresh one alike") {
  auto full = mp{}.map(5)
                  .str("id")
                  .val(7)
                  .str("model")
                  .str("m")
                  .str("key")
                  .str("k")
                  .str("cache")
                  .val(false)
                  .str("priority")
                  .val(3)
                  .bytes();
  auto small = mp{}.map(1).str("id").val(8).bytes();
  client_request used;
  decode_request(full.data(), full.size(), used);
  CHECK(used.key == "k");
  decode_request(small.data(), small.size(), used);
  CHECK(used.id == 8);
  CHECK(used.key.empty());
  CHECK(used.model.empty());
  CHECK(used.cache);
  CHECK(used.priority == 0);
  client_request fresh;
  decode_new_request(full.data(), full.size(), fresh);
  auto ref = decode(full);
  CHECK(fresh.id == ref.id);
  CHECK(fresh.model == ref.model);
  CHECK(fresh.key == ref.key);
  CHECK(fresh.cache == ref.cache);
  CHECK(fresh.priority == ref.priority);
  client_request bad;
  std::string junk = "\xc1";
  decode_new_request(junk.data(), junk.size(), bad);
  CHECK(bad.error == static_cast<uint8_t>(errc::invalid_request));
}

TEST_CASE("append_request -> decode_request round trip") {
  for (auto op :
       {op_code::infer, op_code::health, op_code::models, op_code::stats}) {
    CAPTURE(to_string(op));
    client_request x;
    x.id = 0xFFFFFFFFFFFFFFFFull;
    x.op = op;
    x.model = op == op_code::infer ? "echo" : "";
    x.version = 7;
    x.inputs = to_vec(mp{}.str("hello").bytes());
    x.key = "k1";
    x.cache = false;
    x.deadline_ms = 1000;
    x.priority = -3;
    std::vector<char> buf{'z'};
    append_request(buf, x);
    REQUIRE(buf.size() > 5);
    uint32_t len;
    memcpy(&len, buf.data() + 1, 4);
    REQUIRE(ntohl(len) == buf.size() - 5);
    client_request y;
    decode_request(buf.data() + 5, buf.size() - 5, y);
    CHECK(y.error == 0);
    CHECK(y.error_message == "");
    CHECK(y.id == x.id);
    CHECK(y.op == x.op);
    CHECK(y.model == x.model);
    CHECK(y.version == x.version);
    CHECK(y.inputs == x.inputs);
    CHECK(y.key == x.key);
    CHECK(y.cache == x.cache);
    CHECK(y.deadline_ms == x.deadline_ms);
    CHECK(y.priority == x.priority);
  }
  // Defaults are left out and come back as defaults.
  client_request x;
  x.id = 1;
  x.model = "m";
  std::vector<char> buf;
  append_request(buf, x);
  client_request y;
  decode_request(buf.data() + 4, buf.size() - 4, y);
  CHECK(y.error == 0);
  CHECK(y.cache == true);
  CHECK(y.inputs == std::vector<uint8_t>{0xc0});
}

// -- append_reply -> decode_reply --------------------------------------------

namespace {

client_reply reply_round_trip(const client_reply& x) {
  std::vector<char> buf;
  append_reply(buf, x);
  uint32_t len;
  memcpy(&len, buf.data(), 4);
  REQUIRE(ntohl(len) == buf.size() - 4);
  client_reply y;
  REQUIRE(decode_reply(buf.data() + 4, buf.size() - 4, y));
  return y;
}

} // namespace

TEST_CASE("append_reply -> decode_reply for an ok reply") {
  client_reply x;
  x.id = 123456789012ull;
  x.outputs =
      to_vec(mp{}.map(1).str("y").array(3).val(1).val(2).val(3).bytes());
  x.cached = true;
  x.worker = "node-2/echo#1";
  x.batch = 17;
  x.times = timings{1, 2, 3, 11, 4, 22, 5, 6, 333};
  auto y = reply_round_trip(x);
  CHECK(y.id == x.id);
  CHECK(y.code == 0);
  CHECK(y.message.empty());
  CHECK(y.outputs == x.outputs);
  CHECK(y.cached);
  CHECK(y.worker == x.worker);
  CHECK(y.batch == 17);
  CHECK(y.times.read_us == 1);
  CHECK(y.times.preproc_us == 2);
  CHECK(y.times.cache_us == 3);
  CHECK(y.times.queue_us == 11);
  CHECK(y.times.network_us == 4);
  CHECK(y.times.infer_us == 22);
  CHECK(y.times.postproc_us == 5);
  CHECK(y.times.write_us == 6);
  CHECK(y.times.total_us == 333);
  // Empty outputs travel as nil.
  x.outputs.clear();
  CHECK(reply_round_trip(x).outputs == std::vector<uint8_t>{0xc0});
}

TEST_CASE("append_reply -> decode_reply for error replies") {
  for (auto code : {errc::invalid_request, errc::frame_too_large,
                    errc::unknown_op, errc::unknown_model, errc::overloaded,
                    errc::deadline_exceeded, errc::internal}) {
    CAPTURE(to_string(code));
    client_reply x;
    x.id = 77;
    x.code = static_cast<uint8_t>(code);
    x.message = std::string{"because "} + to_string(code);
    x.worker = "w";
    auto y = reply_round_trip(x);
    CHECK(y.id == 77);
    CHECK(static_cast<errc>(y.code) == code);
    CHECK(y.message == x.message);
    CHECK(y.outputs.empty());
    CHECK_FALSE(y.cached);
  }
}

TEST_CASE("append_reply encodes every integer and string width like "
          "msgpack-c") {
  // The reply encoder writes msgpack by hand: compare its bytes with
  // msgpack-c's packer for values at each width boundary.
  auto long_str = [](size_t n) { return std::string(n, 'x'); };
  for (uint64_t id : {0ull, 127ull, 128ull, 255ull, 256ull, 65535ull, 65536ull,
                      4294967295ull, 4294967296ull, ~0ull})
    for (size_t len : {0, 31, 32, 255, 256, 65535, 65536}) {
      CAPTURE(id);
      CAPTURE(len);
      client_reply x;
      x.id = id;
      x.code = len % 2 == 0 ? 0 : static_cast<uint8_t>(errc::overloaded);
      x.message = long_str(len);
      x.worker = long_str(len / 2);
      x.outputs = to_vec(mp{}.val(int64_t{7}).bytes());
      x.batch = static_cast<uint32_t>(id);
      auto big = static_cast<uint32_t>(id);
      x.times = timings{big, 0, 127, 128, 255, 300, 65535, 65536, 70000};
      std::vector<char> got;
      append_reply(got, x);
      msgpack::sbuffer want;
      msgpack::packer<msgpack::sbuffer> pk{want};
      pk.pack_map(7);
      pk.pack(std::string{"id"});
      pk.pack(x.id);
      pk.pack(std::string{"ok"});
      pk.pack(x.code == 0);
      if (x.code == 0) {
        pk.pack(std::string{"outputs"});
        want.write(reinterpret_cast<const char*>(x.outputs.data()),
                   x.outputs.size());
      } else {
        pk.pack(std::string{"error"});
        pk.pack_map(2);
        pk.pack(std::string{"code"});
        pk.pack(std::string{to_string(errc::overloaded)});
        pk.pack(std::string{"message"});
        pk.pack(x.message);
      }
      pk.pack(std::string{"cached"});
      pk.pack(false);
      pk.pack(std::string{"worker"});
      pk.pack(x.worker);
      pk.pack(std::string{"batch"});
      pk.pack(x.batch);
      pk.pack(std::string{"timings"});
      pk.pack_map(9);
      pk.pack(std::string{"read"});
      pk.pack(x.times.read_us);
      pk.pack(std::string{"preproc"});
      pk.pack(x.times.preproc_us);
      pk.pack(std::string{"cache"});
      pk.pack(x.times.cache_us);
      pk.pack(std::string{"queue"});
      pk.pack(x.times.queue_us);
      pk.pack(std::string{"network"});
      pk.pack(x.times.network_us);
      pk.pack(std::string{"infer"});
      pk.pack(x.times.infer_us);
      pk.pack(std::string{"postproc"});
      pk.pack(x.times.postproc_us);
      pk.pack(std::string{"write"});
      pk.pack(x.times.write_us);
      pk.pack(std::string{"total"});
      pk.pack(x.times.total_us);
      REQUIRE(got.size() == want.size() + 4);
      uint32_t len_be;
      memcpy(&len_be, got.data(), 4);
      CHECK(ntohl(len_be) == want.size());
      CHECK(memcmp(got.data() + 4, want.data(), want.size()) == 0);
    }
}

TEST_CASE("decode_reply rejects malformed replies") {
  client_reply y;
  auto no_id = mp{}.map(1).str("ok").val(true).bytes();
  CHECK_FALSE(decode_reply(no_id.data(), no_id.size(), y));
  auto not_map = mp{}.array(1).val(1).bytes();
  CHECK_FALSE(decode_reply(not_map.data(), not_map.size(), y));
  auto junk = raw({0xc1});
  CHECK_FALSE(decode_reply(junk.data(), junk.size(), y));
  auto trailing = mp{}.map(1).str("id").val(1).bytes() + raw({0xc0});
  CHECK_FALSE(decode_reply(trailing.data(), trailing.size(), y));
}

// -- decode_request: bad input -----------------------------------------------

TEST_CASE("decode_request rejects malformed bodies") {
  auto valid = mp{}.map(2).str("id").val(4).str("model").str("m").bytes();
  REQUIRE(decode(valid).error == 0);
  struct bad_case {
    const char* name;
    std::string body;
    const char* message_part;
  };
  bad_case cases[] = {
      {"empty body", "", "well-formed"},
      {"0xc1 is never msgpack", raw({0xc1}), "well-formed"},
      {"truncated body", valid.substr(0, valid.size() - 1), "well-formed"},
      {"trailing bytes", valid + raw({0xc0}), "well-formed"},
      {"array body", mp{}.array(2).str("id").val(4).bytes(),
       "not a msgpack map"},
      {"string body", mp{}.str("model").bytes(), "not a msgpack map"},
      {"map claiming 2^32-1 entries in 10 bytes",
       raw({0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'a', 0x01, 0xa1, 'b'}),
       "well-formed"},
      {"array claiming 2^32-1 elements in 10 bytes",
       raw({0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05}),
       "well-formed"},
      {"inputs claiming 2^32-1 elements",
       mp{}.map(2).str("model").str("m").str("inputs").bytes() +
           raw({0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}),
       "well-formed"},
      {"str32 longer than the body",
       mp{}.map(1).str("model").bytes() + raw({0xdb, 0x7f, 0xff, 0xff, 0xff}) +
           "abc",
       "well-formed"},
      {"str8 longer than the body",
       mp{}.map(1).str("model").bytes() + raw({0xd9, 200}) + "abc",
       "well-formed"},
      {"bin32 longer than the body",
       mp{}.map(1).str("inputs").bytes() + raw({0xc6, 0xff, 0xff, 0xff, 0xf0}),
       "well-formed"},
  };
  for (auto& c : cases) {
    CAPTURE(c.name);
    auto r = decode(c.body);
    CHECK(code_of(r) == errc::invalid_request);
    CHECK(contains(r.error_message, c.message_part));
  }
}

TEST_CASE("decode_request: non-string keys, missing model, unknown op") {
  SUBCASE("non-string key; the id after it is still read") {
    auto r = decode(mp{}.map(3)
                        .val(1)
                        .str("x")
                        .str("id")
                        .val(7)
                        .str("model")
                        .str("m")
                        .bytes());
    CHECK(code_of(r) == errc::invalid_request);
    CHECK(contains(r.error_message, "keys must be strings"));
    CHECK(r.id == 7);
  }
  SUBCASE("missing model") {
    auto r = decode(mp{}.map(2).str("id").val(8).str("inputs").val(1).bytes());
    CHECK(code_of(r) == errc::invalid_request);
    CHECK(r.error_message == "missing field `model`");
    CHECK(r.id == 8);
  }
  SUBCASE("empty and too long model") {
    auto r = decode(mp{}.map(2).str("id").val(8).str("model").str("").bytes());
    CHECK(code_of(r) == errc::invalid_request);
    CHECK(contains(r.error_message, "`model`"));
    r = decode(mp{}.map(1).str("model").str(std::string(257, 'm')).bytes());
    CHECK(code_of(r) == errc::invalid_request);
    CHECK(decode(mp{}.map(1).str("model").str(std::string(256, 'm')).bytes())
              .error == 0);
  }
  SUBCASE("too long key") {
    auto r = decode(mp{}.map(2)
                        .str("model")
                        .str("m")
                        .str("key")
                        .str(std::string(4097, 'k'))
                        .bytes());
    CHECK(code_of(r) == errc::invalid_request);
    CHECK(contains(r.error_message, "`key`"));
  }
  SUBCASE("unknown op") {
    auto r = decode(mp{}.map(3)
                        .str("id")
                        .val(11)
                        .str("op")
                        .str("explode")
                        .str("model")
                        .str("m")
                        .bytes());
    CHECK(code_of(r) == errc::unknown_op);
    CHECK(contains(r.error_message, "explode"));
    CHECK(r.id == 11);
    // Unknown op wins over a missing model.
    r = decode(mp{}.map(2).str("op").str("nope").str("id").val(12).bytes());
    CHECK(code_of(r) == errc::unknown_op);
    CHECK(r.id == 12);
  }
}

TEST_CASE("decode_request rejects wrong field types") {
  struct bad_field {
    const char* field;
    std::string value; // msgpack bytes
  };
  bad_field cases[] = {
      {"model", mp{}.val(42).bytes()},
      {"model", mp{}.array(0).bytes()},
      {"op", mp{}.val(1).bytes()},
      {"version", mp{}.str("1").bytes()},
      {"version", mp{}.val(-1).bytes()},
      {"version", mp{}.val(uint64_t{1} << 32).bytes()},
      {"cache", mp{}.val(1).bytes()},
      {"cache", mp{}.str("true").bytes()},
      {"deadline_ms", mp{}.val(-1).bytes()},
      {"deadline_ms", mp{}.val(1.5).bytes()},
      {"deadline_ms", mp{}.val(uint64_t{1} << 33).bytes()},
      {"priority", mp{}.str("high").bytes()},
      {"priority", mp{}.val(int64_t{1} << 31).bytes()},
      {"priority", mp{}.val(-(int64_t{1} << 31) - 1).bytes()},
      {"key", mp{}.val(5).bytes()},
      {"key", raw({0xc4, 0x01, 'k'})}, // bin, not str
  };
  for (auto& c : cases) {
    CAPTURE(c.field);
    auto body = mp{}.map(3)
                    .str("id")
                    .val(21)
                    .str(c.field)
                    .raw(c.value)
                    .str("model")
                    .str("m")
                    .bytes();
    if (std::string{c.field} == "model")
      body = mp{}.map(2).str("id").val(21).str("model").raw(c.value).bytes();
    auto r = decode(body);
    CHECK(code_of(r) == errc::invalid_request);
    CHECK(contains(r.error_message, std::string{"`"} + c.field + "`"));
    CHECK(r.id == 21); // the id stays readable
  }
  SUBCASE("wrong id types") {
    for (auto v : {mp{}.str("7").bytes(), mp{}.val(-7).bytes(),
                   raw({0xcb, 0x40, 0x1c, 0, 0, 0, 0, 0, 0}) /* 7.0 */,
                   mp{}.val(true).bytes()}) {
      auto r =
          decode(mp{}.map(2).str("id").raw(v).str("model").str("m").bytes());
      CHECK(code_of(r) == errc::invalid_request);
      CHECK(contains(r.error_message, "`id`"));
      CHECK(r.id == 0);
    }
  }
}

TEST_CASE("decode_request limits nesting to 32 levels") {
  auto nested = [](size_t depth) {
    std::string s(depth, static_cast<char>(0x91)); // [[[...]]]
    return s + raw({0x01});
  };
  auto body = [&](size_t depth) {
    return mp{}
        .map(3)
        .str("id")
        .val(5)
        .str("model")
        .str("m")
        .str("inputs")
        .raw(nested(depth))
        .bytes();
  };
  CHECK(decode(body(16)).error == 0);
  CHECK(decode(body(16)).inputs == to_vec(nested(16)));
  // The exact boundary: the body map is level 1, so `inputs` may hold 31
  // nested arrays around its innermost value (level 32), not 32.
  CHECK(decode(body(31)).error == 0);
  CHECK(code_of(decode(body(32))) == errc::invalid_request);
  auto r = decode(body(40));
  CHECK(code_of(r) == errc::invalid_request);
  CHECK(contains(r.error_message, "nesting deeper than 32"));
  // A very deep hostile value fails without recursing through all of it.
  r = decode(body(100000));
  CHECK(code_of(r) == errc::invalid_request);
  CHECK(contains(r.error_message, "nesting"));
}

// -- msgpack_reader ----------------------------------------------------------

namespace {

/// Returns a reader over a copy of `bytes` that outlives the reader.
msgpack_reader reader(std::string bytes, size_t max_depth = 32) {
  static std::deque<std::string> keep_alive;
  auto& s = keep_alive.emplace_back(std::move(bytes));
  return msgpack_reader{reinterpret_cast<const uint8_t*>(s.data()), s.size(),
                        max_depth};
}

} // namespace

TEST_CASE("msgpack_reader reads unsigned integers in every encoding") {
  struct uint_case {
    std::string bytes;
    uint64_t value;
  };
  uint_case cases[] = {
      {raw({0x00}), 0},
      {raw({0x7f}), 127},
      {raw({0xcc, 0xc8}), 200},
      {raw({0xcd, 0x12, 0x34}), 0x1234},
      {raw({0xce, 0x89, 0xab, 0xcd, 0xef}), 0x89abcdef},
      {raw({0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}),
       0xfffffffffffffffeull},
      {raw({0xd0, 0x05}), 5}, // signed encodings of non-negative values
      {raw({0xd3, 0, 0, 0, 0, 0, 0, 1, 0}), 256},
  };
  for (auto& c : cases) {
    CAPTURE(c.value);
    auto rd = reader(c.bytes);
    CHECK(rd.peek() == (static_cast<uint8_t>(c.bytes[0]) >= 0xd0
                            ? msgpack_reader::kind::sint
                            : msgpack_reader::kind::uint));
    uint64_t x = 0;
    CHECK(rd.read_uint(x));
    CHECK(x == c.value);
    CHECK(rd.at_end());
  }
  uint64_t x = 0;
  auto neg = reader(raw({0xff})); // -1
  CHECK_FALSE(neg.read_uint(x));
  CHECK_FALSE(neg.ok());
  auto short_u16 = reader(raw({0xcd, 0x01}));
  CHECK_FALSE(short_u16.read_uint(x));
  auto not_int = reader(mp{}.str("1").bytes());
  CHECK_FALSE(not_int.read_uint(x));
}

TEST_CASE("msgpack_reader reads signed integers and detects overflow") {
  struct int_case {
    std::string bytes;
    int64_t value;
  };
  int_case cases[] = {
      {raw({0xff}), -1},
      {raw({0xe0}), -32},
      {raw({0xd0, 0x80}), -128},
      {raw({0xd1, 0x80, 0x00}), -32768},
      {raw({0xd2, 0x80, 0, 0, 0}), std::numeric_limits<int32_t>::min()},
      {raw({0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}),
       std::numeric_limits<int64_t>::min()},
      {raw({0x2a}), 42},
      {raw({0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
       std::numeric_limits<int64_t>::max()},
  };
  for (auto& c : cases) {
    CAPTURE(c.value);
    auto rd = reader(c.bytes);
    int64_t x = 0;
    CHECK(rd.read_int(x));
    CHECK(x == c.value);
    CHECK(rd.at_end());
  }
  int64_t x = 0;
  auto overflow = reader(raw({0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0}));
  CHECK_FALSE(overflow.read_int(x));
  auto truncated = reader(raw({0xd2, 0x80, 0}));
  CHECK_FALSE(truncated.read_int(x));
  // A failed reader stays failed.
  CHECK_FALSE(truncated.ok());
  CHECK(truncated.peek() == msgpack_reader::kind::invalid);
  CHECK_FALSE(truncated.read_nil());
}

TEST_CASE("msgpack_reader reads strings and binaries") {
  for (size_t len : {0u, 31u, 32u, 255u, 256u, 65535u, 65536u}) {
    CAPTURE(len);
    std::string s(len, 's');
    auto bytes = mp{}.str(s).bytes();
    auto rd = reader(bytes);
    CHECK(rd.peek() == msgpack_reader::kind::str);
    std::string_view v;
    CHECK(rd.read_str(v));
    CHECK(v == s);
    CHECK(rd.at_end());
    // Cut off: the length points past the end.
    auto cut = reader(bytes.substr(0, bytes.size() - 1));
    CHECK((len == 0 || !cut.read_str(v)));
    msgpack::sbuffer b;
    msgpack::packer<msgpack::sbuffer> pk{b};
    pk.pack_bin(static_cast<uint32_t>(len));
    pk.pack_bin_body(s.data(), static_cast<uint32_t>(len));
    auto bin = std::string(b.data(), b.size());
    auto brd = reader(bin);
    CHECK(brd.peek() == msgpack_reader::kind::bin);
    CHECK(brd.read_bin(v));
    CHECK(v == s);
    CHECK(brd.at_end());
    auto wrong = reader(bin);
    CHECK_FALSE(wrong.read_str(v));
  }
  std::string_view v;
  auto huge = reader(raw({0xdb, 0xff, 0xff, 0xff, 0xff, 'a'}));
  CHECK_FALSE(huge.read_str(v));
}

TEST_CASE("msgpack_reader reads floats, doubles, nil and booleans") {
  double d = 0;
  auto f32 = reader(mp{}.val(1.5f).bytes());
  CHECK(f32.peek() == msgpack_reader::kind::real);
  CHECK(f32.read_double(d));
  CHECK(d == 1.5);
  auto f64 = reader(mp{}.val(M_PI).bytes());
  CHECK(f64.read_double(d));
  CHECK(d == M_PI);
  auto from_int = reader(raw({0xd0, 0xfe}));
  CHECK(from_int.read_double(d));
  CHECK(d == -2.0);
  auto short_f64 = reader(raw({0xcb, 0, 0, 0}));
  CHECK_FALSE(short_f64.read_double(d));
  bool b = false;
  auto t = reader(raw({0xc3, 0xc2, 0xc0}));
  CHECK(t.peek() == msgpack_reader::kind::boolean);
  CHECK(t.read_bool(b));
  CHECK(b);
  CHECK(t.read_bool(b));
  CHECK_FALSE(b);
  CHECK(t.peek() == msgpack_reader::kind::nil);
  CHECK(t.read_nil());
  CHECK(t.peek() == msgpack_reader::kind::end);
}

TEST_CASE("msgpack_reader skips ext values and rejects truncated ones") {
  std::string all = raw({0xd4, 1, 0xaa})                    // fixext1
                    + raw({0xd5, 1, 0, 0})                  // fixext2
                    + raw({0xd6, 1, 0, 0, 0, 0})            // fixext4
                    + raw({0xd7, 1}) + std::string(8, 'x')  // fixext8
                    + raw({0xd8, 1}) + std::string(16, 'x') // fixext16
                    + raw({0xc7, 3, 1, 'a', 'b', 'c'})      // ext8
                    + raw({0xc8, 0, 2, 1, 'a', 'b'})        // ext16
                    + raw({0xc9, 0, 0, 0, 1, 1, 'z'});      // ext32
  auto rd = reader(all);
  for (int i = 0; i < 8; ++i) {
    CAPTURE(i);
    CHECK(rd.peek() == msgpack_reader::kind::ext);
    CHECK(rd.skip());
  }
  CHECK(rd.at_end());
  auto cut = reader(raw({0xd8, 1}) + std::string(15, 'x'));
  CHECK_FALSE(cut.skip());
  auto ext32 = reader(raw({0xc9, 0xff, 0xff, 0xff, 0xff, 1, 'z'}));
  CHECK_FALSE(ext32.skip());
  auto never = reader(raw({0xc1}));
  CHECK(never.peek() == msgpack_reader::kind::invalid);
  CHECK_FALSE(never.skip());
}

TEST_CASE("msgpack_reader checks container sizes and depth") {
  uint32_t n = 0;
  auto fixmap = reader(raw({0x8f, 0xa1, 'a', 0x01})); // claims 15 entries
  CHECK_FALSE(fixmap.read_map_header(n));
  auto arr = reader(raw({0x93, 1, 2, 3}));
  CHECK(arr.peek() == msgpack_reader::kind::array);
  CHECK(arr.read_array_header(n));
  CHECK(n == 3);
  auto map16 = reader(mp{}.map(20).bytes() + std::string(40, '\x01'));
  CHECK(map16.read_map_header(n));
  CHECK(n == 20);
  auto big = reader(raw({0xdd, 0, 1, 0, 0}) + std::string(100, '\x01'));
  CHECK_FALSE(big.read_array_header(n)); // 65536 elements, 100 bytes
  auto depth2 = reader(raw({0x91, 0x91, 0x01}), 2);
  CHECK(depth2.skip());
  auto depth3 = reader(raw({0x91, 0x91, 0x91, 0x01}), 2);
  CHECK_FALSE(depth3.skip());
  CHECK(depth3.too_deep());
  auto nested_map = mp{}.map(1).str("k").map(1).str("j").val(1).bytes();
  auto map_ok = reader(nested_map, 2);
  CHECK(map_ok.skip());
  auto map_deep = reader(nested_map, 1);
  CHECK_FALSE(map_deep.skip());
}

TEST_CASE("trace ids: request and reply round trip, bad ones refused") {
  client_request x;
  x.id = 5;
  x.model = "echo";
  x.trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  std::vector<char> buf;
  append_request(buf, x);
  client_request y;
  decode_request(buf.data() + 4, buf.size() - 4, y);
  CHECK(y.error == 0);
  CHECK(y.trace == x.trace);
  // Without one, none.
  x.trace.clear();
  buf.clear();
  append_request(buf, x);
  decode_request(buf.data() + 4, buf.size() - 4, y);
  CHECK(y.trace.empty());
  // Refused: empty, too long, characters outside [A-Za-z0-9._:-], wrong type.
  for (auto bad : {mp{}.map(3)
                       .str("id")
                       .val(1)
                       .str("model")
                       .str("m")
                       .str("trace")
                       .str("")
                       .bytes(),
                   mp{}.map(3)
                       .str("id")
                       .val(1)
                       .str("model")
                       .str("m")
                       .str("trace")
                       .str(std::string(129, 'a'))
                       .bytes(),
                   mp{}.map(3)
                       .str("id")
                       .val(1)
                       .str("model")
                       .str("m")
                       .str("trace")
                       .str("a b\n")
                       .bytes(),
                   mp{}.map(3)
                       .str("id")
                       .val(1)
                       .str("model")
                       .str("m")
                       .str("trace")
                       .val(7)
                       .bytes()}) {
    auto r = decode(bad);
    CHECK(code_of(r) == errc::invalid_request);
    CHECK(contains(r.error_message, "trace"));
  }
  auto ok = decode(mp{}.map(3)
                       .str("id")
                       .val(1)
                       .str("model")
                       .str("m")
                       .str("trace")
                       .str(std::string(128, 'a'))
                       .bytes());
  CHECK(ok.error == 0);
  // The reply carries it back; final frames only.
  client_reply r;
  r.id = 9;
  r.trace = "t-1";
  r.worker = "w";
  CHECK(reply_round_trip(r).trace == "t-1");
  r.frame = reply_frame::last;
  CHECK(reply_round_trip(r).trace == "t-1");
  r.trace.clear();
  CHECK(reply_round_trip(r).trace.empty());
}
