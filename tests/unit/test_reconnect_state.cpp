// reconnect_state: the decisions of a link to a remote actor
// (runtime/reconnect_state.hpp).

#include <doctest/doctest.h>

#include "runtime/reconnect_state.hpp"

using namespace dine;
using ms = std::chrono::milliseconds;

TEST_CASE("a link runs one attempt at a time and none while connected") {
  reconnect_state st{backoff{ms{100}}};
  CHECK(st.begin());
  CHECK(st.connecting());
  CHECK_FALSE(st.begin()); // a second join while connecting
  CHECK_FALSE(st.up());    // no outage before
  CHECK(st.connected());
  CHECK_FALSE(st.connecting());
  CHECK_FALSE(st.begin());
}

TEST_CASE("failed attempts back off and a success starts over") {
  reconnect_state st{backoff{ms{100}}};
  REQUIRE(st.begin());
  CHECK(st.failed() == ms{20});
  REQUIRE(st.begin());
  CHECK(st.failed() == ms{40});
  REQUIRE(st.begin());
  CHECK(st.failed() == ms{80});
  REQUIRE(st.begin());
  CHECK(st.failed() == ms{100});
  CHECK(st.failures() == 4);
  REQUIRE(st.begin());
  CHECK(st.up()); // ends an outage
  CHECK(st.failures() == 0);
  CHECK(st.lost() == ms{20}); // reconnects at the first delay
  CHECK_FALSE(st.connected());
  REQUIRE(st.begin());
  CHECK(st.failed() == ms{40});
}

TEST_CASE("a stopped link never tries again") {
  reconnect_state st;
  REQUIRE(st.begin());
  st.stop();
  CHECK(st.failed() == std::nullopt);
  CHECK_FALSE(st.begin());
  reconnect_state connected;
  REQUIRE(connected.begin());
  connected.up();
  connected.stop();
  CHECK(connected.lost() == std::nullopt);
  CHECK_FALSE(connected.begin());
}

TEST_CASE("the retry message names the reason and the next delay") {
  CHECK(retry_message("registrar", "cannot reach h:1: refused", ms{40}) ==
        "registrar: cannot reach h:1: refused; retrying in 40 ms");
  CHECK(retry_message("cache_link", "gone", std::nullopt) ==
        "cache_link: gone; not retrying");
}
