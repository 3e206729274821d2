// runtime/trace_context: the W3C `traceparent` header the HTTP front door
// reads and writes (docs/http.md, "Trace ids").

#include <doctest/doctest.h>

#include "runtime/trace_context.hpp"

using namespace dine;

namespace {

const char* valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

} // namespace

TEST_CASE("traceparent: a valid header gives its trace id, parent and flags") {
  auto tp = parse_traceparent(valid);
  REQUIRE(tp);
  CHECK(tp->trace_id == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(tp->parent_id == "00f067aa0ba902b7");
  CHECK(tp->flags == 1);
  auto unsampled = parse_traceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  REQUIRE(unsampled);
  CHECK(unsampled->flags == 0);
  // A later version may append fields; they are ignored.
  auto later = parse_traceparent(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-what-ever");
  REQUIRE(later);
  CHECK(later->trace_id == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(later->flags == 3);
}

TEST_CASE("traceparent: malformed headers are rejected") {
  std::string v = valid;
  for (auto bad : {
           std::string{},
           std::string{"garbage"},
           v.substr(0, 54),    // one short
           v + "-extra",       // version 00: 4 fields
           v + "x",            // junk after the flags
           "ff" + v.substr(2), // version ff
           "0g" + v.substr(2), // version not hex
           "00-4BF92F3577B34DA6A3CE929D0E0E4736" + v.substr(35),  // upper case
           "00-" + std::string(32, '0') + v.substr(35),           // zero trace
           v.substr(0, 36) + std::string(16, '0') + v.substr(52), // zero parent
           v.substr(0, 53) + "0z", // flags not hex
           std::string{
               "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
           std::string{
               "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01"},
           std::string{
               "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"},
       }) {
    INFO("header: '" << bad << "'");
    CHECK(!parse_traceparent(bad));
  }
}

TEST_CASE("traceparent: the header written parses back") {
  auto out = make_traceparent("4bf92f3577b34da6a3ce929d0e0e4736",
                              0x00f067aa0ba902b7ULL, 1);
  CHECK(out == valid);
  auto back = parse_traceparent(out);
  REQUIRE(back);
  CHECK(back->parent_id == "00f067aa0ba902b7");
  // A zero span would be invalid: it becomes 1.
  auto zero = make_traceparent("4bf92f3577b34da6a3ce929d0e0e4736", 0, 0xab);
  CHECK(zero == "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-ab");
  CHECK(parse_traceparent(zero));
}

TEST_CASE("traceparent: which trace ids fit a header, which a request") {
  CHECK(is_w3c_trace_id("4bf92f3577b34da6a3ce929d0e0e4736"));
  CHECK(!is_w3c_trace_id("4BF92F3577B34DA6A3CE929D0E0E4736"));
  CHECK(!is_w3c_trace_id(std::string(32, '0')));
  CHECK(!is_w3c_trace_id("client-trace-42"));
  CHECK(valid_trace("client-trace-42"));
  CHECK(valid_trace("a.b_c:d-E9"));
  CHECK(!valid_trace(""));
  CHECK(!valid_trace(std::string(129, 'a')));
  CHECK(valid_trace(std::string(128, 'a')));
  CHECK(!valid_trace("has space"));
  CHECK(!valid_trace("quote\""));
}
