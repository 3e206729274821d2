// When a slow client connection is closed (runtime/slow_client.hpp), on an
// injected clock (nanoseconds).

#include <doctest/doctest.h>

#include <string>

#include "runtime/slow_client.hpp"

using namespace dine;

namespace {

constexpr int64_t ms = 1000000;

} // namespace

TEST_CASE("slow client: a TLS handshake that does not finish in time") {
  slow_client c{100 * ms, 1000 * ms, true, 5 * ms};
  CHECK(c.handshake_pending());
  CHECK(c.next_check() == 105 * ms);
  CHECK(c.check(104 * ms) == slow_verdict::keep);
  CHECK(c.check(105 * ms) == slow_verdict::handshake);
  CHECK(std::string{to_string(c.check(105 * ms))} == "handshake");
  // Finished in time: never closed for it.
  slow_client d{100 * ms, 1000 * ms, true, 0};
  d.handshake_done();
  CHECK_FALSE(d.handshake_pending());
  CHECK(d.check(1000000 * ms) == slow_verdict::keep);
  CHECK(d.next_check() == 0);
  // Plaintext, or the check off: no handshake to wait for.
  CHECK(slow_client{100 * ms, 0, false, 0}.check(1000 * ms) ==
        slow_verdict::keep);
  CHECK(slow_client{0, 0, true, 0}.check(1000 * ms) == slow_verdict::keep);
}

TEST_CASE("slow client: a partial frame that stalls (slowloris)") {
  slow_client c{100 * ms, 1000 * ms, false, 0};
  CHECK(c.next_check() == 0); // idle connections are kept
  CHECK(c.check(1000000 * ms) == slow_verdict::keep);
  c.on_read(true, 10 * ms); // a partial frame: its clock starts here
  CHECK(c.next_check() == 1010 * ms);
  c.on_read(true, 500 * ms); // a byte now and then does not restart it
  c.on_read(true, 1000 * ms);
  CHECK(c.next_check() == 1010 * ms);
  CHECK(c.check(1009 * ms) == slow_verdict::keep);
  CHECK(c.check(1010 * ms) == slow_verdict::frame);
  // Completed in time: the clock stops; the next partial one starts anew.
  slow_client d{100 * ms, 1000 * ms, false, 0};
  d.on_read(true, 10 * ms);
  d.on_read(false, 900 * ms);
  CHECK(d.check(5000 * ms) == slow_verdict::keep);
  CHECK(d.next_check() == 0);
  d.on_read(true, 6000 * ms);
  CHECK(d.check(6999 * ms) == slow_verdict::keep);
  CHECK(d.check(7000 * ms) == slow_verdict::frame);
}

TEST_CASE("slow client: a partial frame while reading is paused counts not") {
  slow_client c{0, 1000 * ms, false, 0};
  c.on_read(true, 0);
  c.suspend(); // backpressure: the node stopped reading
  CHECK(c.check(5000 * ms) == slow_verdict::keep);
  CHECK(c.next_check() == 0);
  c.resume(true, 6000 * ms); // its clock restarts at the resume
  CHECK(c.check(6999 * ms) == slow_verdict::keep);
  CHECK(c.check(7000 * ms) == slow_verdict::frame);
  c.resume(false, 8000 * ms);
  CHECK(c.check(100000 * ms) == slow_verdict::keep);
}

TEST_CASE("slow client: the earlier of both bounds is checked first") {
  slow_client c{2000 * ms, 500 * ms, true, 0};
  c.on_read(true, 100 * ms); // (data read while the handshake is pending)
  CHECK(c.next_check() == 600 * ms);
  CHECK(c.check(600 * ms) == slow_verdict::frame);
  CHECK(c.check(2000 * ms) == slow_verdict::handshake); // overdue first
  CHECK(std::string{to_string(slow_verdict::keep)} == "keep");
}
