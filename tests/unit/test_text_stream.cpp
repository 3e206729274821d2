// text_stream and sampler: UTF-8 hold-back, stop strings, seeded draws.

#include <doctest/doctest.h>

#include <vector>

#include "runtime/backends/sampler.hpp"
#include "runtime/backends/text_stream.hpp"

using namespace dine;

TEST_CASE("text_stream holds back an incomplete UTF-8 character") {
  text_stream ts;
  CHECK_FALSE(ts.push("a\xE2\x82"));
  CHECK(ts.take() == "a");
  CHECK_FALSE(ts.push("\xAC"));
  CHECK(ts.take() == "\xE2\x82\xAC"); // €
  CHECK(ts.finish().empty());
}

TEST_CASE("text_stream replaces invalid bytes with U+FFFD") {
  text_stream ts;
  ts.push("x\xFFy");
  CHECK(ts.take() == "x\xEF\xBF\xBDy");
  ts.push("\xC3(");
  CHECK(ts.take() == "\xEF\xBF\xBD(");
  ts.push("\xE2\x82");
  CHECK(ts.take().empty());
  CHECK(ts.finish() == "\xEF\xBF\xBD");
}

TEST_CASE("text_stream holds back a possible stop string and cuts at it") {
  text_stream ts{{"END"}};
  CHECK_FALSE(ts.push("abc E"));
  CHECK(ts.take() == "abc ");
  CHECK_FALSE(ts.push("x"));
  CHECK(ts.take() == "Ex");
  CHECK_FALSE(ts.push("EN"));
  CHECK(ts.take().empty());
  CHECK(ts.push("D and more"));
  CHECK(ts.take().empty());
  CHECK(ts.text() == "abc Ex");
  CHECK(ts.finish().empty());
}

TEST_CASE("sampler at temperature 0 is argmax") {
  std::vector<float> logits{0.1f, 2.0f, -1.0f, 1.9f};
  sampler s{0.0f, 1.0f, 1};
  CHECK(s.sample(logits.data(), 4) == 1);
  CHECK(argmax(logits.data(), 4) == 1);
}

TEST_CASE("sampler with the same seed draws the same tokens") {
  std::vector<float> base(100);
  for (size_t i = 0; i < base.size(); ++i)
    base[i] = float(i % 7) * 0.3f;
  auto draw = [&](uint64_t seed, float top_p) {
    sampler s{1.0f, top_p, seed};
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) {
      auto l = base;
      out.push_back(s.sample(l.data(), 100));
    }
    return out;
  };
  CHECK(draw(5, 0.9f) == draw(5, 0.9f));
  CHECK(draw(5, 0.9f) != draw(6, 0.9f));
  CHECK(draw(5, 1.0f) == draw(5, 1.0f));
  // A tiny nucleus holds only the most likely token.
  for (auto t : draw(9, 1e-6f))
    CHECK(t % 7 == 6);
}
