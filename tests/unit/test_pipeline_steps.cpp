// The pipeline steps (runtime/text_steps, runtime/classify_steps) and the
// step_runner that chains them: what each does to real msgpack values, and
// that tokenising in a step gives the model the ids its own prompt path
// would.

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <ctime>

#include <msgpack.hpp>

#include "messages/errc.hpp"
#include "runtime/backends/gen_request.hpp"
#include "runtime/backends/model_writer.hpp"
#include "runtime/classify_steps.hpp"
#include "runtime/step_runner.hpp"
#include "runtime/text_steps.hpp"
#include "tests/temp_dir.hpp"

using namespace dine;
using dine::test::temp_dir;

namespace {

template <class F>
std::vector<uint8_t> pack(F f) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  f(pk);
  return {buf.data(), buf.data() + buf.size()};
}

std::vector<uint8_t> prompt_map(const std::string& prompt) {
  return pack([&](auto& pk) {
    pk.pack_map(2);
    pk.pack(std::string{"prompt"});
    pk.pack(prompt);
    pk.pack(std::string{"max_tokens"});
    pk.pack(4);
  });
}

msgpack::object_handle unpack(const std::vector<uint8_t>& b) {
  return msgpack::unpack(reinterpret_cast<const char*>(b.data()), b.size());
}

const msgpack::object* get(const msgpack::object& m, const std::string& k) {
  if (m.type != msgpack::type::MAP)
    return nullptr;
  for (uint32_t i = 0; i < m.via.map.size; ++i)
    if (m.via.map.ptr[i].key.as<std::string>() == k)
      return &m.via.map.ptr[i].val;
  return nullptr;
}

std::string message(const caf::error& err) {
  return classify(err).second;
}

} // namespace

TEST_CASE("normalize_text: case, control characters, whitespace") {
  CHECK(normalize_text("  Hello\tWORLD \n\n again ", true) ==
        "hello world again");
  CHECK(normalize_text("A\x01"
                       "B\x7f"
                       "C",
                       true) == "a b c");
  CHECK(normalize_text("Keep Case", false) == "Keep Case");
  CHECK(normalize_text("\xc3\x84pfel", true) == "\xc3\x84pfel"); // UTF-8 kept
  CHECK(normalize_text(" \t\r\n", true).empty());
}

TEST_CASE("normalize_inputs: a bare string, a map field, anything else") {
  step_spec s;
  s.kind = step_kind::normalize;
  auto bare = pack([](auto& pk) { pk.pack(std::string{" Hi  THERE "}); });
  REQUIRE(!normalize_inputs(bare, s));
  CHECK(unpack(bare).get().as<std::string>() == "hi there");
  auto m = prompt_map("ONE   Two");
  REQUIRE(!normalize_inputs(m, s));
  auto h = unpack(m);
  CHECK(get(h.get(), "prompt")->as<std::string>() == "one two");
  CHECK(get(h.get(), "max_tokens")->as<int>() == 4);
  auto num = pack([](auto& pk) { pk.pack(42); });
  auto before = num;
  REQUIRE(!normalize_inputs(num, s));
  CHECK(num == before);
  std::vector<uint8_t> junk{0xdc, 0xff, 0xff}; // array16 of 65535: no bytes
  CHECK(normalize_inputs(junk, s));
}

TEST_CASE("tokenize / detokenize: the model's own ids and text") {
  temp_dir dir;
  auto path = dir.sub("v.tok");
  auto vocab = make_vocabulary(512, 7);
  REQUIRE(!vocab.save(path));
  step_spec s;
  s.kind = step_kind::tokenize;
  auto in = prompt_map("hello there");
  REQUIRE(!tokenize_inputs(in, s, vocab));
  // The transformer parses tokenised inputs to the same prompt ids as it
  // would encode the text itself.
  auto direct = parse_gen_inputs(prompt_map("hello there"), vocab, 64);
  auto via_step = parse_gen_inputs(in, vocab, 64);
  REQUIRE(direct);
  REQUIRE(via_step);
  CHECK(via_step->prompt == direct->prompt);
  CHECK(via_step->max_tokens == 4);
  CHECK(get(unpack(in).get(), "prompt") == nullptr);
  // Both the text and `tokens`: ambiguous.
  auto both = pack([](auto& pk) {
    pk.pack_map(2);
    pk.pack(std::string{"prompt"});
    pk.pack(std::string{"x"});
    pk.pack(std::string{"tokens"});
    pk.pack_array(0);
  });
  CHECK(message(tokenize_inputs(both, s, vocab)).find("both") !=
        std::string::npos);
  // detokenize: `text` from `tokens`, other keys kept.
  auto ids = vocab.encode("hello there");
  auto out = pack([&](auto& pk) {
    pk.pack_map(3);
    pk.pack(std::string{"text"});
    pk.pack(std::string{"stale"});
    pk.pack(std::string{"tokens"});
    pk.pack_array(static_cast<uint32_t>(ids.size() - 1));
    for (size_t i = 1; i < ids.size(); ++i)
      pk.pack(ids[i]);
    pk.pack(std::string{"finish_reason"});
    pk.pack(std::string{"length"});
  });
  REQUIRE(!detokenize_outputs(out, vocab));
  auto h = unpack(out);
  CHECK(get(h.get(), "text")->as<std::string>() == " hello there");
  CHECK(get(h.get(), "finish_reason")->as<std::string>() == "length");
  auto bad = pack([](auto& pk) {
    pk.pack_map(1);
    pk.pack(std::string{"tokens"});
    pk.pack_array(1);
    pk.pack(100000);
  });
  CHECK(message(detokenize_outputs(bad, vocab)).find("token id") !=
        std::string::npos);
}

TEST_CASE("softmax, top-k, labels: a classifier's outputs") {
  auto logits = pack([](auto& pk) {
    pk.pack_array(3);
    pk.pack(1.0);
    pk.pack(3.0);
    pk.pack(2);
  });
  REQUIRE(!softmax_outputs(logits));
  auto h = unpack(logits);
  auto probs = get(h.get(), "probs");
  REQUIRE(probs != nullptr);
  REQUIRE(probs->via.array.size == 3);
  double sum = 0;
  for (uint32_t i = 0; i < 3; ++i)
    sum += probs->via.array.ptr[i].as<double>();
  CHECK(sum == doctest::Approx(1.0));
  CHECK(probs->via.array.ptr[1].as<double>() ==
        doctest::Approx(std::exp(3.0) /
                        (std::exp(1.0) + std::exp(3.0) + std::exp(2.0))));
  REQUIRE(!top_k_outputs(logits, 2));
  REQUIRE(!label_outputs(logits, {"cat", "dog", "bird"}));
  h = unpack(logits);
  auto top = get(h.get(), "top");
  REQUIRE(top != nullptr);
  REQUIRE(top->via.array.size == 2);
  CHECK(get(top->via.array.ptr[0], "index")->as<int>() == 1);
  CHECK(get(top->via.array.ptr[0], "label")->as<std::string>() == "dog");
  CHECK(get(top->via.array.ptr[1], "label")->as<std::string>() == "bird");
  // Big logits do not overflow; a map keeps its other keys.
  auto big = pack([](auto& pk) {
    pk.pack_map(2);
    pk.pack(std::string{"id"});
    pk.pack(7);
    pk.pack(std::string{"logits"});
    pk.pack_array(2);
    pk.pack(1000.0);
    pk.pack(1000.0);
  });
  REQUIRE(!softmax_outputs(big));
  h = unpack(big);
  CHECK(get(h.get(), "id")->as<int>() == 7);
  CHECK(get(h.get(), "probs")->via.array.ptr[0].as<double>() ==
        doctest::Approx(0.5));
  // Ties go to the lower index; k larger than the classes is all of them.
  REQUIRE(!top_k_outputs(big, 10));
  h = unpack(big);
  CHECK(get(h.get(), "top")->via.array.size == 2);
  CHECK(get(get(h.get(), "top")->via.array.ptr[0], "index")->as<int>() == 0);
  // Errors name what is wrong.
  auto text = pack([](auto& pk) { pk.pack(std::string{"x"}); });
  CHECK(message(softmax_outputs(text)).find("logits") != std::string::npos);
  auto nan = pack([](auto& pk) {
    pk.pack_array(1);
    pk.pack(std::nan(""));
  });
  CHECK(message(softmax_outputs(nan)).find("finite") != std::string::npos);
  auto few = pack([](auto& pk) {
    pk.pack_array(2);
    pk.pack(0.1);
    pk.pack(0.9);
  });
  REQUIRE(!top_k_outputs(few, 1));
  CHECK(message(label_outputs(few, {"only"})).find("no label") !=
        std::string::npos);
}

TEST_CASE("step_runner: chains steps and names the stage in errors") {
  temp_dir dir;
  auto path = dir.sub("v.tok");
  REQUIRE(!make_vocabulary(512, 7).save(path));
  auto pre = parse_steps("normalize, tokenize", step_list::pre);
  REQUIRE(pre);
  auto r = step_runner::make(*pre, path, "preproc");
  REQUIRE(r);
  auto in = prompt_map("  HELLO   There ");
  REQUIRE(!r->run(in));
  auto vocab = tokenizer::load(path);
  REQUIRE(vocab);
  auto p = parse_gen_inputs(in, *vocab, 64);
  REQUIRE(p);
  CHECK(p->prompt == vocab->encode("hello there"));
  // A tokenizer step without a tokenizer file cannot be prepared.
  CHECK(!step_runner::make(*pre, "", "preproc"));
  CHECK(!step_runner::make(*pre, dir.sub("missing.tok"), "preproc"));
  auto post = parse_steps("softmax, labels names=a", step_list::post);
  REQUIRE(post);
  auto pr = step_runner::make(*post, "", "postproc");
  REQUIRE(pr);
  auto out = pack([](auto& pk) {
    pk.pack_array(1);
    pk.pack(0.5);
  });
  auto err = pr->run(out);
  REQUIRE(err);
  CHECK(message(err).find("postproc step `labels`") == 0);
}

TEST_CASE("burn_cpu: spends the thread's CPU time") {
  auto cpu = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
  };
  auto t0 = cpu();
  burn_cpu(3000);
  CHECK(cpu() - t0 >= 3000);
  auto t1 = cpu();
  burn_cpu(0);
  CHECK(cpu() - t1 < 3000);
}
