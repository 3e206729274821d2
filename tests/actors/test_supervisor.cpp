// supervisor: OTP supervision with real actors. Each child factory reports
// "start <id> <incarnation>" to a recorder, and each child reports
// "stop <id>" when asked to shut down, so the tests see start and stop
// orders. Every test ends with no actor left alive.

#include <doctest/doctest.h>

#include <caf/all.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include "actors/supervision/supervisor.hpp"
#include "messages/errc.hpp"

using namespace dine;
using namespace std::chrono_literals;

namespace {

using quit_atom = caf::atom_constant<caf::atom("quit")>;

using strings = std::vector<std::string>;

/// A supervised test actor. It traps exits: on an exit message it reports
/// "stop <id>" and quits, or, if `stubborn`, reports "ignore <id>" and
/// keeps running. `(quit)` ends it normally.
caf::behavior test_child(caf::event_based_actor* self, caf::actor rec,
                         std::string id, bool stubborn) {
  self->set_exit_handler([=](caf::exit_msg& em) {
    if (stubborn) {
      self->send(rec, "ignore " + id);
      return;
    }
    self->send(rec, "stop " + id);
    self->quit(em.reason);
  });
  return {[=](quit_atom) { self->quit(); }};
}

/// A child spec whose factory reports "start <id> <n>" to `rec`, with `n`
/// counting the incarnations.
supervised_child child(const caf::actor& rec, std::string id,
                       restart_type r = restart_type::permanent,
                       std::chrono::milliseconds shutdown = 5000ms,
                       bool stubborn = false) {
  auto n = std::make_shared<int>(0);
  child_factory f = [=](caf::local_actor* self) {
    caf::anon_send(rec, "start " + id + " " + std::to_string((*n)++));
    return self->spawn(test_child, rec, id, stubborn);
  };
  return {child_spec{std::move(id), r, shutdown}, std::move(f)};
}

supervisor_flags flags(restart_strategy s, size_t intensity = 5,
                       std::chrono::steady_clock::duration period = 10s) {
  return supervisor_flags{s, intensity, period};
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self; ///< Requests and monitors.
  caf::scoped_actor rec;  ///< Receives the children's reports.
  size_t baseline;

  fixture()
      : sys(cfg.set("scheduler.max-threads", 2)), self(sys), rec(sys),
        baseline(sys.registry().running()) {
    // nop
  }

  ~fixture() {
    // Nothing may outlive a test, or ~actor_system hangs.
    for (int i = 0; i < 500 && sys.registry().running() > baseline; ++i)
      std::this_thread::sleep_for(10ms);
    CHECK(sys.registry().running() == baseline);
    if (sys.registry().running() != baseline)
      sys.await_actors_before_shutdown(false);
  }

  supervisor_actor spawn(supervisor_flags fl,
                         std::vector<supervised_child> xs) {
    return sys.spawn(supervisor, std::string{"test"}, fl, std::move(xs));
  }

  /// The next `n` reports (fewer if none arrives within 5 s).
  strings events(size_t n) {
    strings result;
    for (size_t i = 0; i < n; ++i) {
      bool got = false;
      rec->receive(
          [&](std::string& x) {
            result.push_back(std::move(x));
            got = true;
          },
          caf::after(std::chrono::seconds(5)) >> [] {});
      if (!got)
        break;
    }
    return result;
  }

  /// True if no report is waiting (after a short grace period).
  bool quiet() {
    bool got = false;
    rec->receive([&](std::string&) { got = true; },
                 caf::after(std::chrono::milliseconds(20)) >> [] {});
    return !got;
  }

  std::vector<child_info> which(const supervisor_actor& sup) {
    std::vector<child_info> result;
    self->request(sup, 5s, children_atom::value)
        .receive([&](std::vector<child_info>& xs) { result = std::move(xs); },
                 [&](caf::error& err) { FAIL_CHECK(sys.render(err)); });
    return result;
  }

  caf::actor handle(const supervisor_actor& sup, const std::string& id) {
    for (auto& x : which(sup))
      if (x.id == id)
        return x.handle;
    return nullptr;
  }

  strings ids(const supervisor_actor& sup) {
    strings result;
    for (auto& x : which(sup))
      result.push_back(x.id);
    return result;
  }

  void stop(const supervisor_actor& sup) {
    bool ok = false;
    self->request(sup, 10s, stop_atom::value)
        .receive([&] { ok = true; },
                 [&](caf::error& err) { FAIL_CHECK(sys.render(err)); });
    CHECK(ok);
  }

  /// Waits for the down message of `x` (monitored before) and returns its
  /// reason; other down messages are kept for later calls.
  caf::error down_of(const caf::actor_addr& x) {
    for (bool timed_out = false; !timed_out && downs.count(x) == 0;)
      self->receive(
          [&](caf::down_msg& dm) { downs.emplace(dm.source, dm.reason); },
          caf::after(std::chrono::seconds(5)) >> [&] { timed_out = true; });
    auto i = downs.find(x);
    return i != downs.end() ? i->second : caf::sec::request_timeout;
  }

  std::map<caf::actor_addr, caf::error> downs;
};

} // namespace

TEST_CASE_FIXTURE(fixture, "one_for_one restarts only the killed child") {
  auto sup = spawn(flags(restart_strategy::one_for_one),
                   {child(rec, "a"), child(rec, "b"), child(rec, "c")});
  CHECK(events(3) == strings{"start a 0", "start b 0", "start c 0"});
  auto before = which(sup);
  REQUIRE(before.size() == 3);
  caf::anon_send_exit(before[1].handle, caf::exit_reason::kill);
  CHECK(events(1) == strings{"start b 1"});
  auto after = which(sup);
  REQUIRE(after.size() == 3);
  CHECK(after[0].handle == before[0].handle);
  CHECK(after[1].handle != before[1].handle);
  CHECK(after[1].handle);
  CHECK(after[2].handle == before[2].handle);
  CHECK(after[0].restarts == 0);
  CHECK(after[1].restarts == 1);
  CHECK(after[2].restarts == 0);
  CHECK(quiet());
  stop(sup);
  CHECK(events(3) == strings{"stop c", "stop b", "stop a"});
}

TEST_CASE_FIXTURE(fixture, "one_for_all restarts all children in order") {
  auto sup = spawn(flags(restart_strategy::one_for_all),
                   {child(rec, "a"), child(rec, "b"), child(rec, "c")});
  CHECK(events(3) == strings{"start a 0", "start b 0", "start c 0"});
  auto before = which(sup);
  caf::anon_send_exit(before[1].handle, caf::exit_reason::kill);
  // The others stop in reverse start order, then all start in order.
  CHECK(events(5) ==
        strings{"stop c", "stop a", "start a 1", "start b 1", "start c 1"});
  auto after = which(sup);
  REQUIRE(after.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(after[i].handle != before[i].handle);
    CHECK(after[i].restarts == 1);
  }
  CHECK(quiet());
  stop(sup);
  CHECK(events(3) == strings{"stop c", "stop b", "stop a"});
}

TEST_CASE_FIXTURE(fixture, "rest_for_one restarts the killed child and later "
                           "ones in order") {
  auto sup = spawn(
      flags(restart_strategy::rest_for_one),
      {child(rec, "a"), child(rec, "b"), child(rec, "c"), child(rec, "d")});
  CHECK(events(4).size() == 4);
  auto before = which(sup);
  caf::anon_send_exit(before[1].handle, caf::exit_reason::kill);
  CHECK(events(5) ==
        strings{"stop d", "stop c", "start b 1", "start c 1", "start d 1"});
  auto after = which(sup);
  REQUIRE(after.size() == 4);
  CHECK(after[0].handle == before[0].handle);
  CHECK(after[0].restarts == 0);
  for (size_t i = 1; i < 4; ++i)
    CHECK(after[i].restarts == 1);
  CHECK(quiet());
  stop(sup);
  CHECK(events(4) == strings{"stop d", "stop c", "stop b", "stop a"});
}

TEST_CASE_FIXTURE(fixture, "exceeding the restart intensity stops every "
                           "child and fails the supervisor") {
  // At most 2 restarts in 10 s: the third kill escalates.
  auto sup = spawn(flags(restart_strategy::one_for_one, 2, 10s),
                   {child(rec, "a"), child(rec, "b"), child(rec, "c")});
  self->monitor(sup);
  CHECK(events(3).size() == 3);
  auto b = handle(sup, "b");
  auto c = handle(sup, "c");
  self->monitor(b);
  self->monitor(c);
  for (int i = 1; i <= 2; ++i) {
    caf::anon_send_exit(handle(sup, "a"), caf::exit_reason::kill);
    CHECK(events(1) == strings{"start a " + std::to_string(i)});
  }
  auto a = handle(sup, "a");
  self->monitor(a);
  caf::anon_send_exit(a, caf::exit_reason::kill);
  CHECK(events(2) == strings{"stop c", "stop b"}); // reverse start order
  auto reason = down_of(sup.address());
  auto [code, msg] = classify(reason);
  CHECK(code == errc::supervisor_gave_up);
  CHECK(msg.find("child a") != std::string::npos);
  CHECK(down_of(a.address()) == caf::exit_reason::kill);
  CHECK(down_of(b.address()) == caf::exit_reason::user_shutdown);
  CHECK(down_of(c.address()) == caf::exit_reason::user_shutdown);
  CHECK(quiet()); // nothing restarted
}

TEST_CASE_FIXTURE(fixture, "a temporary child is not restarted") {
  auto sup = spawn(flags(restart_strategy::one_for_all, 0),
                   {child(rec, "a"), child(rec, "t", restart_type::temporary)});
  CHECK(events(2).size() == 2);
  auto a = handle(sup, "a");
  caf::anon_send_exit(handle(sup, "t"), caf::exit_reason::kill);
  // Intensity 0 would escalate on any restart: none happens, and `t`
  // leaves the child list.
  for (int i = 0; i < 500 && ids(sup) != strings{"a"}; ++i)
    std::this_thread::sleep_for(2ms);
  CHECK(ids(sup) == strings{"a"});
  CHECK(handle(sup, "a") == a);
  CHECK(quiet());
  stop(sup);
  CHECK(events(1) == strings{"stop a"});
}

TEST_CASE_FIXTURE(fixture, "a transient child is restarted only after an "
                           "abnormal exit") {
  auto sup = spawn(flags(restart_strategy::one_for_one, 0),
                   {child(rec, "t1", restart_type::transient),
                    child(rec, "t2", restart_type::transient)});
  CHECK(events(2).size() == 2);
  caf::anon_send(handle(sup, "t1"), quit_atom::value); // normal exit
  for (int i = 0; i < 500 && handle(sup, "t1"); ++i)
    std::this_thread::sleep_for(2ms);
  auto xs = which(sup);
  REQUIRE(xs.size() == 2);
  CHECK(xs[0].id == "t1"); // still listed, but not running
  CHECK_FALSE(xs[0].handle);
  CHECK(xs[0].restarts == 0);
  CHECK(quiet());
  // Intensity 0: a restart escalates. Use a fresh supervisor for the
  // abnormal case.
  stop(sup);
  CHECK(events(1) == strings{"stop t2"});
  auto sup2 = spawn(flags(restart_strategy::one_for_one),
                    {child(rec, "t", restart_type::transient)});
  CHECK(events(1) == strings{"start t 0"});
  caf::anon_send_exit(handle(sup2, "t"), caf::exit_reason::kill);
  CHECK(events(1) == strings{"start t 1"});
  stop(sup2);
  CHECK(events(1) == strings{"stop t"});
}

TEST_CASE_FIXTURE(fixture, "an orderly stop stops children in reverse "
                           "order") {
  auto sup = spawn(flags(restart_strategy::one_for_one),
                   {child(rec, "a"), child(rec, "b"), child(rec, "c")});
  CHECK(events(3).size() == 3);
  self->monitor(sup);
  std::vector<caf::actor_addr> kids;
  for (auto& x : which(sup)) {
    self->monitor(x.handle);
    kids.push_back(x.handle.address());
  }
  stop(sup);
  CHECK(events(3) == strings{"stop c", "stop b", "stop a"});
  CHECK(down_of(sup.address()) == caf::exit_reason::normal);
  for (auto& x : kids)
    CHECK(down_of(x) == caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "an exit message stops the children in reverse "
                           "order and ends the supervisor with its reason") {
  auto sup = spawn(flags(restart_strategy::one_for_one),
                   {child(rec, "a"), child(rec, "b"), child(rec, "c")});
  CHECK(events(3).size() == 3);
  self->monitor(sup);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  CHECK(events(3) == strings{"stop c", "stop b", "stop a"});
  CHECK(down_of(sup.address()) == caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "children die with a killed supervisor") {
  auto sup = spawn(flags(restart_strategy::one_for_one),
                   {child(rec, "a"), child(rec, "b")});
  CHECK(events(2).size() == 2);
  std::vector<caf::actor_addr> kids;
  for (auto& x : which(sup)) {
    self->monitor(x.handle);
    kids.push_back(x.handle.address());
  }
  caf::anon_send_exit(sup, caf::exit_reason::kill);
  for (auto& x : kids)
    CHECK(down_of(x) == caf::exit_reason::kill);
}

TEST_CASE_FIXTURE(fixture, "a child ignoring the shutdown request is killed "
                           "after its shutdown timeout") {
  auto sup = spawn(flags(restart_strategy::one_for_one),
                   {child(rec, "a"),
                    child(rec, "s", restart_type::permanent, 50ms, true),
                    child(rec, "c")});
  CHECK(events(3).size() == 3);
  auto s = handle(sup, "s");
  self->monitor(s);
  stop(sup);
  CHECK(events(3) == strings{"stop c", "ignore s", "stop a"});
  CHECK(down_of(s.address()) == caf::exit_reason::kill);
}

TEST_CASE_FIXTURE(fixture, "brutal_kill kills a child without asking") {
  auto sup = spawn(
      flags(restart_strategy::one_for_one),
      {child(rec, "a"), child(rec, "k", restart_type::permanent, brutal_kill)});
  CHECK(events(2).size() == 2);
  auto k = handle(sup, "k");
  self->monitor(k);
  stop(sup);
  CHECK(events(1) == strings{"stop a"}); // `k` had no say
  CHECK(down_of(k.address()) == caf::exit_reason::kill);
}

TEST_CASE_FIXTURE(fixture, "a child supervisor that gives up is restarted by "
                           "its parent") {
  auto inner =
      supervisor_factory("inner", flags(restart_strategy::one_for_one, 1, 10s),
                         {child(rec, "x"), child(rec, "y")});
  auto sup =
      spawn(flags(restart_strategy::one_for_one),
            {child(rec, "w"),
             {child_spec{"inner", restart_type::permanent, infinite_shutdown},
              inner}});
  CHECK(events(3) == strings{"start w 0", "start x 0", "start y 0"});
  auto w = handle(sup, "w");
  auto in0 = caf::actor_cast<supervisor_actor>(handle(sup, "inner"));
  REQUIRE(in0);
  caf::anon_send_exit(handle(in0, "x"), caf::exit_reason::kill);
  CHECK(events(1) == strings{"start x 1"}); // the inner one restarts x
  caf::anon_send_exit(handle(in0, "x"), caf::exit_reason::kill);
  // Second restart within 10 s: the inner supervisor stops y and gives up,
  // the parent restarts it, which starts x and y again.
  CHECK(events(3) == strings{"stop y", "start x 2", "start y 1"});
  auto xs = which(sup);
  REQUIRE(xs.size() == 2);
  CHECK(xs[0].handle == w);
  CHECK(xs[0].restarts == 0);
  CHECK(xs[1].restarts == 1);
  auto in1 = caf::actor_cast<supervisor_actor>(xs[1].handle);
  REQUIRE(in1);
  CHECK(in1 != in0);
  auto inner_children = which(in1);
  REQUIRE(inner_children.size() == 2);
  CHECK(inner_children[0].handle);
  CHECK(inner_children[1].handle);
  // An orderly stop walks the tree in reverse start order.
  stop(sup);
  CHECK(events(3) == strings{"stop y", "stop x", "stop w"});
}

TEST_CASE_FIXTURE(fixture, "subscribers learn the handle of a restarted "
                           "child") {
  caf::scoped_actor sub{sys};
  auto sup = spawn(flags(restart_strategy::one_for_one),
                   {child(rec, "a"), child(rec, "b")});
  CHECK(events(2).size() == 2);
  self->send(sup, caf::subscribe_atom::value, caf::actor{sub});
  caf::anon_send_exit(handle(sup, "b"), caf::exit_reason::kill);
  CHECK(events(1) == strings{"start b 1"});
  std::string id;
  caf::actor hdl;
  sub->receive(
      [&](restarted_atom, std::string& x, caf::actor& y) {
        id = std::move(x);
        hdl = std::move(y);
      },
      caf::after(std::chrono::seconds(5)) >> [] {});
  CHECK(id == "b");
  CHECK(hdl);
  CHECK(hdl == handle(sup, "b"));
  stop(sup);
  CHECK(events(2).size() == 2);
}

TEST_CASE_FIXTURE(fixture, "a child that fails to start fails the "
                           "supervisor") {
  SUBCASE("a later child: the started ones are stopped") {
    supervised_child bad{child_spec{"bad"},
                         [](caf::local_actor*) { return caf::actor{}; }};
    auto sup = spawn(flags(restart_strategy::one_for_one),
                     {child(rec, "a"), bad, child(rec, "c")});
    self->monitor(sup);
    CHECK(events(2) == strings{"start a 0", "stop a"}); // c never started
    auto [code, msg] = classify(down_of(sup.address()));
    CHECK(code == errc::child_start_failed);
    CHECK(msg.find("bad") != std::string::npos);
  }
  SUBCASE("the first child throws") {
    supervised_child bad{child_spec{"bad"},
                         [](caf::local_actor*) -> caf::actor {
                           throw std::runtime_error("no");
                         }};
    auto sup = spawn(flags(restart_strategy::one_for_one), {bad});
    self->monitor(sup);
    CHECK(classify(down_of(sup.address())).first == errc::child_start_failed);
  }
  SUBCASE("invalid specs") {
    auto sup = spawn(flags(restart_strategy::one_for_one),
                     {child(rec, "a"), child(rec, "a")});
    self->monitor(sup);
    CHECK(classify(down_of(sup.address())).first == errc::invalid_config);
  }
  CHECK(quiet());
}

TEST_CASE_FIXTURE(fixture, "a child that fails to restart counts as another "
                           "restart") {
  auto ok = std::make_shared<bool>(true);
  caf::actor r{rec};
  supervised_child flaky{child_spec{"f"},
                         [ok, r](caf::local_actor* self) -> caf::actor {
                           if (!*ok)
                             return nullptr;
                           *ok = false; // only the first start works
                           return self->spawn(test_child, r, "f", false);
                         }};
  auto sup = spawn(flags(restart_strategy::one_for_one, 3, 10s),
                   {child(rec, "a"), flaky});
  self->monitor(sup);
  CHECK(events(1) == strings{"start a 0"});
  caf::anon_send_exit(handle(sup, "f"), caf::exit_reason::kill);
  // Restarts 1..3 fail, the 4th exceeds the intensity.
  CHECK(events(1) == strings{"stop a"});
  CHECK(classify(down_of(sup.address())).first == errc::supervisor_gave_up);
}
