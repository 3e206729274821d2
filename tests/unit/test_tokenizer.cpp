// tokenizer: llama2.c's encoding (BOS, dummy prefix, byte fallback, greedy
// merges by score) and decoding, on the vocabulary dine-mkmodel generates.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "runtime/backends/model_writer.hpp"
#include "runtime/backends/sampler.hpp"
#include "runtime/backends/tokenizer.hpp"

using namespace dine;

namespace {

/// llama2.c's encode, transcribed: quadratic rescans, the reference the
/// heap-based encoder must agree with.
std::vector<int32_t> reference_encode(const tokenizer& t,
                                      const std::string& s) {
  std::vector<int32_t> v;
  if (!s.empty())
    v.push_back(t.lookup(" "));
  for (size_t i = 0; i < s.size();) {
    size_t n = 1;
    while (i + n < s.size() && n < 4 && (uint8_t(s[i + n]) & 0xC0) == 0x80)
      ++n;
    auto id = t.lookup(s.substr(i, n));
    if (id >= 0)
      v.push_back(id);
    else
      for (size_t j = 0; j < n; ++j)
        v.push_back(uint8_t(s[i + j]) + 3);
    i += n;
  }
  for (;;) {
    float best = -1e10f;
    int best_id = -1;
    size_t best_i = 0;
    for (size_t i = 0; i + 1 < v.size(); ++i) {
      auto id = t.lookup(t.piece(v[i]) + t.piece(v[i + 1]));
      if (id >= 0 && t.score(id) > best) {
        best = t.score(id);
        best_id = id;
        best_i = i;
      }
    }
    if (best_id < 0)
      break;
    v[best_i] = best_id;
    v.erase(v.begin() + static_cast<long>(best_i) + 1);
  }
  v.insert(v.begin(), tokenizer::bos);
  return v;
}

std::string decode_all(const tokenizer& t, const std::vector<int32_t>& ids) {
  std::string out;
  for (size_t i = 1; i < ids.size(); ++i)
    out += t.decode(ids[i - 1], ids[i]);
  return out;
}

} // namespace

TEST_CASE("tokenizer round trips text on the generated vocabulary") {
  auto tok = make_vocabulary(4096, 3);
  REQUIRE(tok.vocab_size() == 4096);
  for (std::string s : {"Once upon a time, there was a little girl.",
                        "The cat and the dog played in the park!", "x",
                        "  two  spaces", "Zebra quokka 12345 {}[]"}) {
    auto ids = tok.encode(s);
    REQUIRE(ids.size() >= 2);
    CHECK(ids[0] == tokenizer::bos);
    CHECK(decode_all(tok, ids) == s);
    CHECK(ids == reference_encode(tok, s));
  }
  CHECK(tok.encode("") == std::vector<int32_t>{tokenizer::bos});
}

TEST_CASE("tokenizer merges learned words into single tokens") {
  auto tok = make_vocabulary(4096, 3);
  auto the = tok.lookup(" the");
  REQUIRE(the >= 0);
  auto ids = tok.encode("the");
  CHECK(ids == std::vector<int32_t>{tokenizer::bos, the});
  // Fewer tokens than bytes for ordinary text.
  std::string text = "Once upon a time there was a little girl named Lily.";
  CHECK(tok.encode(text).size() < text.size() / 2);
}

TEST_CASE("tokenizer falls back to byte tokens for unknown characters") {
  auto tok = make_vocabulary(4096, 3);
  std::string s = "\xC3\xA9"; // é: not in the vocabulary
  auto ids = tok.encode(s);
  REQUIRE(ids.size() == 4);
  CHECK(ids[1] == tok.lookup(" "));
  CHECK(ids[2] == 0xC3 + 3);
  CHECK(ids[3] == 0xA9 + 3);
  CHECK(decode_all(tok, ids) == s); // the dummy space is stripped
  CHECK(tok.decode(ids[1], ids[2]) == "\xC3");
}

TEST_CASE("tokenizer merges the best-scoring pair first, leftmost on ties") {
  // a b c with merges "ab" (score 1) and "bc" (score 2): "bc" wins.
  std::vector<std::string> p{"<unk>", "<s>", "</s>", " ",  "a",
                             "b",     "c",   "ab",   "bc", " a"};
  std::vector<float> sc{0, 0, 0, 0, 0, 0, 0, 1, 2, -5};
  tokenizer tok{p, sc, 2};
  CHECK(tok.encode("abc") == std::vector<int32_t>{1, 9, 8});
  sc[8] = 0.5f;
  tokenizer tok2{p, sc, 2};
  CHECK(tok2.encode("abc") == std::vector<int32_t>{1, 3, 7, 6});
  // Equal scores: the leftmost pair merges first.
  std::vector<std::string> q{"<unk>", "<s>", "</s>", "a", "aa"};
  tokenizer tok3{q, {0, 0, 0, 0, 1}, 2};
  CHECK(tok3.encode("aaa").size() == 3); // <s> aa a (no " " token)
  CHECK(tok3.encode("aaa")[1] == 4);
  CHECK(tok3.encode("aaa")[2] == 3);
}

TEST_CASE("tokenizer decode strips the space after BOS only") {
  auto tok = make_vocabulary(4096, 3);
  auto the = tok.lookup(" the");
  CHECK(tok.decode(tokenizer::bos, the) == "the");
  CHECK(tok.decode(the, the) == " the");
  CHECK(tok.decode(tokenizer::bos, 'A' + 3) == "A");
}

TEST_CASE("tokenizer heap encoder agrees with llama2.c on random text") {
  auto tok = make_vocabulary(2048, 5);
  splitmix64 rng{11};
  const std::string alphabet = "abcdefghij th e a ,.\xC3\xA9";
  for (int round = 0; round < 50; ++round) {
    std::string s;
    auto n = rng.next() % 60;
    for (uint64_t i = 0; i < n; ++i)
      s += alphabet[rng.next() % alphabet.size()];
    CHECK(tok.encode(s) == reference_encode(tok, s));
  }
}
