// supervisor_policy: OTP supervisor semantics without actors, modelled on
// the cases of OTP's supervisor_SUITE (restart types, strategies, restart
// intensity, temporary children).

#include <doctest/doctest.h>

#include <stdexcept>

#include "runtime/supervisor_policy.hpp"

using namespace dine;
using namespace std::chrono_literals;

namespace {

using ids = std::vector<std::string>;

const auto t0 = supervisor_policy::time_point{} + 1h;

child_spec spec(std::string id, restart_type r = restart_type::permanent) {
  return child_spec{std::move(id), r, 100ms};
}

supervisor_policy make(restart_strategy s, std::vector<child_spec> xs,
                       size_t intensity = 10,
                       std::chrono::steady_clock::duration period = 10s) {
  supervisor_policy p{supervisor_flags{s, intensity, period}, std::move(xs)};
  p.start_all();
  return p;
}

ids running(const supervisor_policy& p) {
  ids result;
  for (auto& c : p.children())
    if (c.running)
      result.push_back(c.spec.id);
  return result;
}

ids listed(const supervisor_policy& p) {
  ids result;
  for (auto& c : p.children())
    result.push_back(c.spec.id);
  return result;
}

size_t restarts(const supervisor_policy& p, const std::string& id) {
  auto c = p.find(id);
  REQUIRE(c != nullptr);
  return c->restarts;
}

} // namespace

TEST_CASE("supervisor_policy starts in order and stops in reverse order") {
  supervisor_policy p{supervisor_flags{}, {spec("a"), spec("b"), spec("c")}};
  CHECK(running(p).empty());
  CHECK(p.start_all() == ids{"a", "b", "c"});
  CHECK(running(p) == ids{"a", "b", "c"});
  CHECK(p.start_all().empty()); // already running
  CHECK(p.stop_all() == ids{"c", "b", "a"});
  CHECK(running(p).empty());
}

TEST_CASE("supervisor_policy validates its child specs") {
  CHECK(supervisor_policy::validate({}, {spec("a"), spec("b")}).empty());
  CHECK(supervisor_policy::validate({}, {spec("a"), spec("a")}) ==
        "duplicate child id: a");
  CHECK_FALSE(supervisor_policy::validate({}, {spec("")}).empty());
  supervisor_flags zero_period;
  zero_period.period = 0s;
  CHECK_FALSE(supervisor_policy::validate(zero_period, {spec("a")}).empty());
  CHECK_THROWS_AS(supervisor_policy({}, {spec("a"), spec("a")}),
                  std::invalid_argument);
}

TEST_CASE("one_for_one restarts only the exited child") {
  auto p =
      make(restart_strategy::one_for_one, {spec("a"), spec("b"), spec("c")});
  auto d = p.on_child_exit("b", true, t0);
  CHECK(d.action == supervisor_action::restart);
  CHECK(d.stop.empty());
  CHECK(d.start == ids{"b"});
  CHECK(d.removed.empty());
  CHECK(running(p) == ids{"a", "b", "c"});
  CHECK(restarts(p, "a") == 0);
  CHECK(restarts(p, "b") == 1);
  CHECK(restarts(p, "c") == 0);
}

TEST_CASE("one_for_all stops the others in reverse order, starts all") {
  auto p = make(restart_strategy::one_for_all,
                {spec("a"), spec("b"), spec("c"), spec("d")});
  auto d = p.on_child_exit("b", true, t0);
  CHECK(d.action == supervisor_action::restart);
  CHECK(d.stop == ids{"d", "c", "a"});
  CHECK(d.start == ids{"a", "b", "c", "d"});
  CHECK(running(p) == ids{"a", "b", "c", "d"});
  for (auto& id : {"a", "b", "c", "d"})
    CHECK(restarts(p, id) == 1);
}

TEST_CASE("rest_for_one restarts the exited child and later ones") {
  auto p = make(restart_strategy::rest_for_one,
                {spec("a"), spec("b"), spec("c"), spec("d")});
  SUBCASE("a middle child") {
    auto d = p.on_child_exit("b", true, t0);
    CHECK(d.action == supervisor_action::restart);
    CHECK(d.stop == ids{"d", "c"});
    CHECK(d.start == ids{"b", "c", "d"});
    CHECK(restarts(p, "a") == 0);
    CHECK(restarts(p, "d") == 1);
  }
  SUBCASE("the last child") {
    auto d = p.on_child_exit("d", true, t0);
    CHECK(d.stop.empty());
    CHECK(d.start == ids{"d"});
  }
  SUBCASE("the first child") {
    auto d = p.on_child_exit("a", true, t0);
    CHECK(d.stop == ids{"d", "c", "b"});
    CHECK(d.start == ids{"a", "b", "c", "d"});
  }
  CHECK(running(p) == ids{"a", "b", "c", "d"});
}

TEST_CASE("a permanent child is restarted after any exit") {
  auto p = make(restart_strategy::one_for_one, {spec("a")});
  auto d = p.on_child_exit("a", false, t0); // permanent_normal
  CHECK(d.action == supervisor_action::restart);
  CHECK(d.start == ids{"a"});
  d = p.on_child_exit("a", true, t0 + 1s); // permanent_abnormal
  CHECK(d.start == ids{"a"});
  CHECK(p.recent_restarts() == 2); // both count toward the intensity
}

TEST_CASE("a transient child is restarted only after an abnormal exit") {
  auto p = make(
      restart_strategy::one_for_one,
      {spec("a", restart_type::transient), spec("b", restart_type::transient)},
      1);
  auto d = p.on_child_exit("a", false, t0); // transient_normal
  CHECK(d.action == supervisor_action::none);
  CHECK(d.start.empty());
  CHECK(p.recent_restarts() == 0);   // a normal exit does not count
  CHECK(listed(p) == ids{"a", "b"}); // still in the list
  CHECK(running(p) == ids{"b"});
  CHECK(p.on_child_exit("a", true, t0).action == supervisor_action::none);
  d = p.on_child_exit("b", true, t0); // transient_abnormal
  CHECK(d.action == supervisor_action::restart);
  CHECK(d.start == ids{"b"});
  CHECK(p.recent_restarts() == 1);
}

TEST_CASE("a temporary child is never restarted and leaves the list") {
  auto p = make(restart_strategy::one_for_one,
                {spec("a"), spec("t", restart_type::temporary), spec("c")},
                0); // any restart would escalate
  SUBCASE("normal exit") {
    auto d = p.on_child_exit("t", false, t0);
    CHECK(d.action == supervisor_action::none);
    CHECK(d.removed == ids{"t"});
  }
  SUBCASE("abnormal exit") {
    auto d = p.on_child_exit("t", true, t0);
    CHECK(d.action == supervisor_action::none);
    CHECK(d.start.empty());
    CHECK(d.removed == ids{"t"});
  }
  CHECK(p.recent_restarts() == 0);
  CHECK(listed(p) == ids{"a", "c"});
  CHECK(p.find("t") == nullptr);
}

TEST_CASE("one_for_all stops but does not restart temporary bystanders") {
  auto p = make(restart_strategy::one_for_all,
                {spec("a"), spec("t", restart_type::temporary), spec("c")});
  auto d = p.on_child_exit("c", true, t0);
  CHECK(d.stop == ids{"t", "a"});
  CHECK(d.start == ids{"a", "c"});
  CHECK(d.removed == ids{"t"});
  CHECK(listed(p) == ids{"a", "c"});
}

TEST_CASE("rest_for_one stops but does not restart temporary bystanders") {
  auto p = make(restart_strategy::rest_for_one,
                {spec("t0", restart_type::temporary), spec("a"),
                 spec("t", restart_type::temporary), spec("c")});
  auto d = p.on_child_exit("a", true, t0);
  CHECK(d.stop == ids{"c", "t"});
  CHECK(d.start == ids{"a", "c"});
  CHECK(d.removed == ids{"t"});
  CHECK(listed(p) == ids{"t0", "a", "c"}); // t0 came before: untouched
  CHECK(running(p) == ids{"t0", "a", "c"});
}

TEST_CASE("one_for_all also starts a transient child that exited normally") {
  auto p = make(restart_strategy::one_for_all,
                {spec("a"), spec("t", restart_type::transient), spec("c")});
  CHECK(p.on_child_exit("t", false, t0).action == supervisor_action::none);
  auto d = p.on_child_exit("a", true, t0);
  CHECK(d.stop == ids{"c"}); // t is not running
  CHECK(d.start == ids{"a", "t", "c"});
}

TEST_CASE("intensity R in T escalates on the R+1th restart within T") {
  auto p = make(restart_strategy::one_for_one,
                {spec("a"), spec("b"), spec("c")}, 3, 10s);
  for (int i = 0; i < 3; ++i) {
    auto d = p.on_child_exit("b", true, t0 + i * 1s);
    REQUIRE(d.action == supervisor_action::restart);
  }
  auto d = p.on_child_exit("b", true, t0 + 3s);
  CHECK(d.action == supervisor_action::escalate);
  CHECK(d.stop == ids{"c", "a"}); // every running child, reverse order
  CHECK(d.start.empty());
  CHECK(running(p).empty());
}

TEST_CASE("intensity counts restarts of any child") {
  auto p = make(restart_strategy::one_for_one, {spec("a"), spec("b")}, 1, 5s);
  CHECK(p.on_child_exit("a", true, t0).action == supervisor_action::restart);
  auto d = p.on_child_exit("b", true, t0 + 2s);
  CHECK(d.action == supervisor_action::escalate);
  CHECK(d.stop == ids{"a"});
}

TEST_CASE("restarts spread out over more than T never escalate") {
  // OTP default: at most 1 restart in 5 s.
  auto p = make(restart_strategy::one_for_one, {spec("a")}, 1, 5s);
  for (int i = 0; i < 20; ++i) {
    auto d = p.on_child_exit("a", true, t0 + i * 6s);
    REQUIRE(d.action == supervisor_action::restart);
  }
  CHECK(restarts(p, "a") == 20);
  CHECK(p.recent_restarts() == 1);
}

TEST_CASE("the window slides: old restarts stop counting") {
  auto p = make(restart_strategy::one_for_one, {spec("a")}, 2, 10s);
  CHECK(p.on_child_exit("a", true, t0).action == supervisor_action::restart);
  CHECK(p.on_child_exit("a", true, t0 + 8s).action ==
        supervisor_action::restart);
  // t0 + 10s: the restart at t0 is still inside the window (OTP keeps a
  // restart while now - then <= period), so this is the third in T.
  SUBCASE("at the edge of the window") {
    CHECK(p.on_child_exit("a", true, t0 + 10s).action ==
          supervisor_action::escalate);
  }
  SUBCASE("past the edge of the window") {
    CHECK(p.on_child_exit("a", true, t0 + 10s + 1ms).action ==
          supervisor_action::restart);
    // Now t0 + 8s and t0 + 10s + 1ms are in the window.
    CHECK(p.on_child_exit("a", true, t0 + 12s).action ==
          supervisor_action::escalate);
  }
}

TEST_CASE("intensity 0 escalates on the first restart") {
  auto p = make(restart_strategy::one_for_all, {spec("a"), spec("b")}, 0);
  auto d = p.on_child_exit("a", true, t0);
  CHECK(d.action == supervisor_action::escalate);
  CHECK(d.stop == ids{"b"});
}

TEST_CASE("one restart of many children counts once") {
  auto p = make(restart_strategy::one_for_all,
                {spec("a"), spec("b"), spec("c")}, 1, 5s);
  CHECK(p.on_child_exit("a", true, t0).action == supervisor_action::restart);
  CHECK(p.recent_restarts() == 1);
}

TEST_CASE("exits of unknown or stopped children are ignored") {
  auto p = make(restart_strategy::one_for_one, {spec("a")}, 0);
  CHECK(p.on_child_exit("nope", true, t0).action == supervisor_action::none);
  p.stop_all();
  CHECK(p.on_child_exit("a", true, t0).action == supervisor_action::none);
  CHECK(p.recent_restarts() == 0);
}

TEST_CASE("restart names") {
  CHECK(std::string{to_string(restart_type::transient)} == "transient");
  CHECK(std::string{to_string(restart_strategy::rest_for_one)} ==
        "rest_for_one");
  CHECK(std::string{to_string(supervisor_action::escalate)} == "escalate");
}
