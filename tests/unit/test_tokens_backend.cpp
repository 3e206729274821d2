// The synthetic generative backend `tokens`: deterministic tokens,
// max_tokens, stop, cancel, and a KV pool that queues, then refuses.

#include <doctest/doctest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "messages/errc.hpp"
#include "runtime/backends/generator.hpp"
#include "runtime/node_config.hpp"

using namespace dine;
using namespace std::chrono_literals;

namespace {

std::vector<uint8_t> pack(const nlohmann::json& j) {
  auto b = nlohmann::json::to_msgpack(j);
  return {b.begin(), b.end()};
}

std::unique_ptr<generator> make(uint64_t kv_bytes = 0, uint64_t step_us = 0) {
  auto cfg = builtin_models().at("tokens");
  cfg.fixed_us = step_us; // none in unit tests, unless a test needs it
  cfg.per_item_us = 0;
  cfg.kv_cache_bytes = kv_bytes;
  auto g = make_generator(cfg);
  REQUIRE(g);
  return std::move(*g);
}

/// Steps until idle (at most `limit` steps); returns every event.
std::vector<gen_event> run(generator& g, size_t limit = 1000) {
  std::vector<gen_event> out;
  for (size_t i = 0; i < limit && g.busy(); ++i)
    g.step(out);
  return out;
}

const auto far = generator::clock::now() + 1h;

} // namespace

TEST_CASE("tokens is generative and its output is deterministic") {
  CHECK(is_generative("tokens"));
  CHECK_FALSE(is_generative("echo"));
  std::string texts[2];
  for (auto& text : texts) {
    auto g = make();
    REQUIRE_FALSE(
        g->add(1, pack({{"prompt", "hello"}, {"max_tokens", 4}}), far));
    auto evs = run(*g);
    REQUIRE(evs.size() == 4);
    for (size_t i = 0; i < evs.size(); ++i) {
      CHECK(evs[i].tokens.size() == 1);
      CHECK(evs[i].text == "t" + std::to_string(i) + " ");
      CHECK(evs[i].done == (i == 3));
      text += evs[i].text;
    }
    CHECK(evs[1].tokens[0] == evs[0].tokens[0] + 1);
    auto out = nlohmann::json::from_msgpack(evs.back().outputs);
    CHECK(out["text"] == "t0 t1 t2 t3 ");
    CHECK(out["finish_reason"] == "length");
    CHECK(out["usage"]["prompt_tokens"] == 5);
    CHECK(out["usage"]["completion_tokens"] == 4);
    CHECK(out["tokens"].size() == 4);
  }
  CHECK(texts[0] == texts[1]);
}

TEST_CASE("a stop string ends the sequence with finish_reason stop") {
  auto g = make();
  REQUIRE_FALSE(g->add(
      1, pack({{"prompt", "x"}, {"max_tokens", 50}, {"stop", {"t2 "}}}), far));
  auto evs = run(*g);
  REQUIRE(evs.size() == 3);
  CHECK(evs.back().reason == finish_reason::stop);
}

TEST_CASE("bad inputs are refused naming the field and nothing is queued") {
  auto g = make();
  auto code = [&](const nlohmann::json& j) {
    return classify(g->add(1, pack(j), far)).first;
  };
  CHECK(code({{"max_tokens", 3}}) == errc::invalid_input);
  CHECK(code({{"prompt", 3}}) == errc::invalid_input);
  CHECK(code({{"prompt", "a"}, {"temperature", -1}}) == errc::invalid_input);
  CHECK(code({{"prompt", "a"}, {"top_p", 0}}) == errc::invalid_input);
  CHECK(code({{"prompt", "a"}, {"top_p", 1.5}}) == errc::invalid_input);
  CHECK(code({{"prompt", std::string(2000, 'a')}}) == errc::invalid_input);
  auto err = g->add(1, pack({{"prompt", "a"}, {"stop", "x"}}), far);
  CHECK(classify(err).second.find("stop") != std::string::npos);
  CHECK_FALSE(g->busy());
}

TEST_CASE("cancel ends a running sequence at the next step and frees its "
          "blocks") {
  auto g = make();
  REQUIRE_FALSE(g->add(7, pack({{"prompt", "a"}, {"max_tokens", 100}}), far));
  std::vector<gen_event> evs;
  g->step(evs);
  CHECK(g->stats().kv_blocks_used > 0);
  CHECK(g->stats().running == 1);
  g->cancel(7);
  g->cancel(99); // unknown: ignored
  evs.clear();
  g->step(evs);
  REQUIRE(evs.size() == 1);
  CHECK(evs[0].done);
  CHECK(evs[0].reason == finish_reason::cancelled);
  CHECK(evs[0].tokens.empty());
  CHECK(g->stats().kv_blocks_used == 0);
  CHECK(g->stats().running == 0);
  CHECK_FALSE(g->busy());
}

TEST_CASE("a full KV pool queues, then refuses with overloaded at the wait "
          "bound") {
  // 4 blocks of 16 tokens: one sequence of prompt 1 + 40 tokens takes 3.
  auto g = make(4 * 1024);
  CHECK(g->stats().kv_blocks_total == 4);
  auto big = pack({{"prompt", "a"}, {"max_tokens", 40}});
  CHECK(classify(g->add(1, pack({{"prompt", "a"}, {"max_tokens", 100}}), far))
            .first == errc::invalid_input); // never fits
  REQUIRE_FALSE(g->add(1, big, far));
  REQUIRE_FALSE(g->add(2, big, far));                           // waits
  REQUIRE_FALSE(g->add(3, big, generator::clock::now() - 1ms)); // expired
  std::vector<gen_event> evs;
  g->step(evs);
  CHECK(g->stats().running == 1);
  CHECK(g->stats().waiting == 1);
  CHECK(g->stats().kv_blocks_used == 3);
  auto refused =
      std::find_if(evs.begin(), evs.end(), [](auto& e) { return e.seq == 3; });
  REQUIRE(refused != evs.end());
  CHECK(refused->done);
  CHECK(refused->code == static_cast<uint8_t>(errc::overloaded));
  auto rest = run(*g);
  size_t done = 0;
  for (auto& e : rest)
    done += e.done ? 1 : 0;
  CHECK(done == 2); // 1 finished, then 2 ran
  CHECK(g->stats().kv_blocks_used == 0);
}

TEST_CASE("a wait that ends during a step's device time is refused by that "
          "step, not the next") {
  // Steps of 50 ms; sequence 2 waits for blocks until 10 ms into the first.
  auto g = make(4 * 1024, 50000);
  auto big = pack({{"prompt", "a"}, {"max_tokens", 40}});
  REQUIRE_FALSE(g->add(1, big, far));
  REQUIRE_FALSE(g->add(2, big, generator::clock::now() + 10ms));
  std::vector<gen_event> evs;
  g->step(evs);
  auto refused =
      std::find_if(evs.begin(), evs.end(), [](auto& e) { return e.seq == 2; });
  REQUIRE(refused != evs.end());
  CHECK(refused->done);
  CHECK(refused->code == static_cast<uint8_t>(errc::overloaded));
  CHECK(g->stats().waiting == 0);
  CHECK(g->stats().running == 1);
  g->cancel(1);
  run(*g);
  CHECK(g->stats().kv_blocks_used == 0);
}
