// transformer_generator: continuous batching, inputs, finish reasons, the
// KV pool's waiting and overloaded paths, cancellation.

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "messages/errc.hpp"
#include "runtime/backends/transformer_generator.hpp"
#include "runtime/msgpack_reader.hpp"
#include "tests/unit/model_fixture.hpp"

using namespace dine;
using namespace dine::test;

namespace {

using clock_type = generator::clock;

auto far() {
  return clock_type::now() + std::chrono::hours{1};
}

/// What one sequence produced, from its events.
struct result {
  std::vector<int32_t> tokens;
  std::string text;
  finish_reason reason = finish_reason::none;
  uint8_t code = 0;
  std::vector<uint8_t> outputs;
  int events = 0;
};

using results = std::map<uint64_t, result>;

void collect(const std::vector<gen_event>& evs, results& out) {
  for (auto& e : evs) {
    auto& r = out[e.seq];
    REQUIRE(r.reason == finish_reason::none); // nothing after done
    r.tokens.insert(r.tokens.end(), e.tokens.begin(), e.tokens.end());
    r.text += e.text;
    ++r.events;
    if (e.done) {
      r.reason = e.reason;
      r.code = e.code;
      r.outputs = e.outputs;
    }
  }
}

/// Steps until idle (bounded), collecting events per sequence on top of
/// `out` (events of steps the test ran itself).
results run(generator& g, int max_steps = 10000, results out = {}) {
  std::vector<gen_event> evs;
  for (int i = 0; i < max_steps && g.busy(); ++i) {
    evs.clear();
    g.step(evs);
    collect(evs, out);
  }
  REQUIRE_FALSE(g.busy());
  return out;
}

std::unique_ptr<transformer_generator> make(const model_config& cfg) {
  auto g = transformer_generator::make(cfg);
  REQUIRE(g);
  return std::move(*g);
}

/// Reads the outputs map: text, tokens, finish_reason, usage.
struct outputs {
  std::string text;
  std::vector<int32_t> tokens;
  std::string finish_reason;
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
};

outputs read_outputs(const std::vector<uint8_t>& buf) {
  outputs o;
  msgpack_reader rd{buf.data(), buf.size()};
  uint32_t n = 0;
  REQUIRE(rd.read_map_header(n));
  REQUIRE(n == 4);
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key, s;
    REQUIRE(rd.read_str(key));
    if (key == "text") {
      REQUIRE(rd.read_str(s));
      o.text = std::string{s};
    } else if (key == "tokens") {
      uint32_t m = 0;
      REQUIRE(rd.read_array_header(m));
      for (uint32_t j = 0; j < m; ++j) {
        int64_t t = 0;
        REQUIRE(rd.read_int(t));
        o.tokens.push_back(static_cast<int32_t>(t));
      }
    } else if (key == "finish_reason") {
      REQUIRE(rd.read_str(s));
      o.finish_reason = std::string{s};
    } else {
      CHECK(key == "usage");
      uint32_t m = 0;
      REQUIRE(rd.read_map_header(m));
      for (uint32_t j = 0; j < m; ++j) {
        REQUIRE(rd.read_str(key));
        REQUIRE(rd.read_uint(key == "prompt_tokens" ? o.prompt_tokens
                                                    : o.completion_tokens));
      }
    }
  }
  CHECK(rd.at_end());
  return o;
}

std::string add_error(generator& g, const std::vector<uint8_t>& in) {
  auto err = g.add(1, in, far());
  REQUIRE(err);
  auto [code, msg] = classify(err);
  CHECK(code == errc::invalid_input);
  CHECK_FALSE(g.busy());
  return msg;
}

} // namespace

TEST_CASE("generator greedy output is deterministic and batch-independent") {
  model_files files;
  auto g1 = make(files.config());
  REQUIRE(!g1->add(1, greedy_inputs("Once upon a time", 12), far()));
  auto alone = run(*g1);
  REQUIRE(alone[1].reason == finish_reason::length);
  REQUIRE(alone[1].tokens.size() == 12);
  CHECK(alone[1].events == 12);
  // Again, joined by other sequences at different steps.
  auto g2 = make(files.config());
  REQUIRE(!g2->add(7, greedy_inputs("The cat", 20), far()));
  std::vector<gen_event> evs;
  g2->step(evs);
  g2->step(evs);
  results early;
  collect(evs, early);
  REQUIRE(!g2->add(1, greedy_inputs("Once upon a time", 12), far()));
  REQUIRE(
      !g2->add(9, greedy_inputs("Lily and Max went to the park", 5), far()));
  auto mixed = run(*g2, 10000, early);
  CHECK(mixed[7].events > 2);
  CHECK(mixed[1].tokens == alone[1].tokens);
  CHECK(mixed[1].text == alone[1].text);
  // The final outputs repeat the streamed tokens and text.
  auto o = read_outputs(mixed[1].outputs);
  CHECK(o.tokens == alone[1].tokens);
  CHECK(o.text == alone[1].text);
  CHECK(o.finish_reason == "length");
  CHECK(o.completion_tokens == 12);
  CHECK(o.prompt_tokens == g1->vocab().encode("Once upon a time").size());
  CHECK(g2->stats().kv_blocks_used == 0);
}

TEST_CASE("generator seeded sampling is reproducible") {
  model_files files;
  auto inputs = [](uint64_t seed) {
    return pack_inputs(5, [&](auto& pk) {
      pk.pack(std::string{"prompt"});
      pk.pack(std::string{"Once"});
      pk.pack(std::string{"max_tokens"});
      pk.pack(16);
      pk.pack(std::string{"temperature"});
      pk.pack(1.5);
      pk.pack(std::string{"top_p"});
      pk.pack(0.95);
      pk.pack(std::string{"seed"});
      pk.pack(seed);
    });
  };
  auto g = make(files.config());
  REQUIRE(!g->add(1, inputs(42), far()));
  REQUIRE(!g->add(2, inputs(42), far()));
  REQUIRE(!g->add(3, inputs(43), far()));
  auto r = run(*g);
  CHECK(r[1].tokens == r[2].tokens);
  CHECK(r[1].tokens != r[3].tokens);
  auto g2 = make(files.config());
  REQUIRE(!g2->add(5, inputs(42), far()));
  CHECK(run(*g2)[5].tokens == r[1].tokens);
}

TEST_CASE("generator rejects bad inputs naming the field or the limit") {
  model_files files;
  auto g = make(files.config());
  CHECK(add_error(*g, pack_inputs(1, [](auto& pk) {
          pk.pack(std::string{"prompt"});
          pk.pack(std::string(400, 'q'));
        })).find("context window is 64") != std::string::npos);
  CHECK(add_error(*g, pack_inputs(2, [](auto& pk) {
          pk.pack(std::string{"prompt"});
          pk.pack(std::string{"hi"});
          pk.pack(std::string{"temperature"});
          pk.pack(-0.5);
        })).find("temperature") != std::string::npos);
  for (double p : {0.0, 1.5, -1.0}) {
    CHECK(add_error(*g, pack_inputs(2, [p](auto& pk) {
            pk.pack(std::string{"prompt"});
            pk.pack(std::string{"hi"});
            pk.pack(std::string{"top_p"});
            pk.pack(p);
          })).find("top_p") != std::string::npos);
  }
  CHECK(add_error(*g, pack_inputs(1, [](auto& pk) {
          pk.pack(std::string{"prompt"});
          pk.pack(17);
        })).find("`prompt` must be a string") != std::string::npos);
  CHECK(add_error(*g, pack_inputs(1, [](auto& pk) {
          pk.pack(std::string{"tokens"});
          pk.pack(std::vector<int>{1, 512});
        })).find("0..511") != std::string::npos);
  CHECK(add_error(*g, pack_inputs(1, [](auto& pk) {
          pk.pack(std::string{"max_tokens"});
          pk.pack(3);
        })).find("exactly one of") != std::string::npos);
  CHECK(add_error(*g, pack_inputs(2, [](auto& pk) {
          pk.pack(std::string{"prompt"});
          pk.pack(std::string{"hi"});
          pk.pack(std::string{"max_tokens"});
          pk.pack(std::string{"ten"});
        })).find("max_tokens") != std::string::npos);
  CHECK(add_error(*g, std::vector<uint8_t>{0x91, 0x01}).find("map") !=
        std::string::npos);
  // A token array as long as the window names it too.
  CHECK(add_error(*g, pack_inputs(1, [](auto& pk) {
          pk.pack(std::string{"tokens"});
          pk.pack(std::vector<int>(64, 5));
        })).find("context window is 64") != std::string::npos);
}

TEST_CASE("generator stops at the context window with finish length") {
  model_files files;
  auto g = make(files.config());
  auto in = pack_inputs(3, [](auto& pk) {
    pk.pack(std::string{"tokens"});
    pk.pack(std::vector<int>{1, 300, 301, 302});
    pk.pack(std::string{"max_tokens"});
    pk.pack(1000);
    pk.pack(std::string{"temperature"});
    pk.pack(0);
  });
  REQUIRE(!g->add(1, in, far()));
  auto r = run(*g);
  // This model's greedy text has no EOS (token 2): the window ends it.
  CHECK(r[1].reason == finish_reason::length);
  CHECK(r[1].tokens.size() == 64 - 4);
}

TEST_CASE("generator cuts the text at a stop string") {
  model_files files;
  auto g = make(files.config());
  REQUIRE(!g->add(1, greedy_inputs("Once upon a time", 30), far()));
  auto full = run(*g)[1];
  REQUIRE(full.text.size() > 6);
  // A stop string from the middle of the greedy text.
  auto stop = full.text.substr(full.text.size() / 2, 3);
  auto at = full.text.find(stop);
  auto in = pack_inputs(4, [&](auto& pk) {
    pk.pack(std::string{"prompt"});
    pk.pack(std::string{"Once upon a time"});
    pk.pack(std::string{"max_tokens"});
    pk.pack(30);
    pk.pack(std::string{"temperature"});
    pk.pack(0);
    pk.pack(std::string{"stop"});
    pk.pack(std::vector<std::string>{"\x01never", stop});
  });
  REQUIRE(!g->add(2, in, far()));
  auto r = run(*g)[2];
  CHECK(r.reason == finish_reason::stop);
  CHECK(r.text == full.text.substr(0, at));
  CHECK(read_outputs(r.outputs).finish_reason == "stop");
  CHECK(read_outputs(r.outputs).text == r.text);
}

TEST_CASE("generator queues when the KV pool is full, then overloads") {
  model_files files;
  // Blocks of 4 tokens; a sequence of 5 prompt + 20 tokens needs 7 blocks.
  // 10 blocks: one such sequence runs, the next waits.
  auto probe = make(files.config());
  auto per_block = probe->stats().kv_bytes_per_block;
  auto g = make(files.config(per_block * 10, 4));
  REQUIRE(g->stats().kv_blocks_total == 10);
  auto in = pack_inputs(3, [](auto& pk) {
    pk.pack(std::string{"tokens"});
    pk.pack(std::vector<int>{1, 10, 11, 12, 13});
    pk.pack(std::string{"max_tokens"});
    pk.pack(20);
    pk.pack(std::string{"temperature"});
    pk.pack(0);
  });
  REQUIRE(!g->add(1, in, far()));
  REQUIRE(!g->add(2, in, far()));
  // Long enough that the first step still sees 3 waiting on a loaded
  // machine (1 ms was not: the step dropped it as expired).
  auto deadline = clock_type::now() + std::chrono::milliseconds{300};
  REQUIRE(!g->add(3, in, deadline));
  std::vector<gen_event> evs;
  g->step(evs);
  CHECK(g->stats().running == 1);
  CHECK(g->stats().waiting == 2);
  CHECK(g->stats().kv_blocks_used == 2);
  // 3's deadline passes while 1 still holds the blocks (no step runs).
  while (clock_type::now() <= deadline)
    continue;
  results first;
  collect(evs, first);
  auto r = run(*g, 10000, first);
  // 1 and 2 run one after the other; 3's deadline passed while waiting.
  CHECK(r[1].tokens.size() == 20);
  CHECK(r[1].reason != finish_reason::error);
  CHECK(r[2].reason != finish_reason::error);
  CHECK(r[2].tokens == r[1].tokens);
  CHECK(r[3].code == static_cast<uint8_t>(errc::overloaded));
  CHECK(g->stats().kv_blocks_used == 0);
  // More than the whole pool: overloaded at once.
  auto huge = pack_inputs(2, [](auto& pk) {
    pk.pack(std::string{"prompt"});
    pk.pack(std::string{"hi"});
    pk.pack(std::string{"max_tokens"});
    pk.pack(60);
  });
  REQUIRE(!g->add(4, huge, far()));
  auto h = run(*g, 3);
  CHECK(h[4].code == static_cast<uint8_t>(errc::overloaded));
}

TEST_CASE("generator cancel frees the sequence and its KV blocks") {
  model_files files;
  auto g = make(files.config());
  REQUIRE(!g->add(1, greedy_inputs("Once upon a time", 40), far()));
  REQUIRE(!g->add(2, greedy_inputs("The dog", 40), far()));
  std::vector<gen_event> evs;
  for (int i = 0; i < 5; ++i)
    g->step(evs);
  CHECK(g->stats().kv_blocks_used > 0);
  g->cancel(1);
  g->cancel(12345); // unknown: ignored
  evs.clear();
  g->step(evs);
  bool cancelled = false;
  for (auto& e : evs)
    if (e.seq == 1) {
      CHECK(e.done);
      CHECK(e.reason == finish_reason::cancelled);
      CHECK(read_outputs(e.outputs).finish_reason == "cancelled");
      cancelled = true;
    }
  CHECK(cancelled);
  CHECK(g->stats().running == 1);
  g->cancel(2);
  auto r = run(*g);
  CHECK(r[2].reason == finish_reason::cancelled);
  CHECK(g->stats().kv_blocks_used == 0);
  CHECK(g->stats().running == 0);
  // Cancelling a waiting sequence ends it too.
  REQUIRE(!g->add(3, greedy_inputs("x", 4), far()));
  g->cancel(3);
  CHECK(run(*g)[3].reason == finish_reason::cancelled);
}

TEST_CASE("generator prefills long prompts in chunks across steps") {
  model_files files;
  transformer_options opts;
  opts.max_step_rows = 8;
  auto g = transformer_generator::make(files.config(), opts);
  REQUIRE(g);
  std::vector<int> prompt(30, 0);
  for (size_t i = 0; i < prompt.size(); ++i)
    prompt[i] = 1 + int(i) * 7 % 500;
  auto in = pack_inputs(3, [&](auto& pk) {
    pk.pack(std::string{"tokens"});
    pk.pack(prompt);
    pk.pack(std::string{"max_tokens"});
    pk.pack(5);
    pk.pack(std::string{"temperature"});
    pk.pack(0);
  });
  REQUIRE(!(*g)->add(1, in, far()));
  auto chunked = run(**g);
  auto whole = make(files.config());
  REQUIRE(!whole->add(1, in, far()));
  auto r = run(*whole);
  CHECK(chunked[1].tokens == r[1].tokens);
  CHECK(chunked[1].tokens.size() == 5);
}

TEST_CASE("generator ends a sequence at BOS as at EOS, never emitting either") {
  // The tied classifier of a random model predicts the token it was fed:
  // after a lone BOS, greedy decoding picks BOS again, which llama2.c's
  // generate loop treats as the end of the sequence.
  model_files files;
  auto g = make(files.config());
  auto in = pack_inputs(3, [](auto& pk) {
    pk.pack(std::string{"tokens"});
    pk.pack(std::vector<int>{1});
    pk.pack(std::string{"max_tokens"});
    pk.pack(10);
    pk.pack(std::string{"temperature"});
    pk.pack(0);
  });
  REQUIRE(!g->add(1, in, far()));
  auto r = run(*g);
  CHECK(r[1].reason == finish_reason::stop);
  for (auto t : r[1].tokens)
    CHECK((t != tokenizer::bos && t != tokenizer::eos));
}
