// The outputs of streamed replies: chunks, and a final frame without the
// text the chunks carried.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "runtime/stream_outputs.hpp"

using namespace dine;
using json = nlohmann::json;

TEST_CASE("a chunk carries text and token ids") {
  auto j = json::from_msgpack(encode_chunk_outputs("t3 ", {42, -1}));
  CHECK(j == json{{"text", "t3 "}, {"tokens", {42, -1}}});
}

TEST_CASE("the final frame of a stream drops text and tokens, keeps the "
          "rest") {
  auto full = json::to_msgpack(json{{"text", "a b"},
                                    {"tokens", {1, 2}},
                                    {"finish_reason", "length"},
                                    {"usage", {{"completion_tokens", 2}}}});
  auto j = json::from_msgpack(
      stream_final_outputs(std::vector<uint8_t>{full.begin(), full.end()}));
  CHECK(j == json{{"finish_reason", "length"},
                  {"usage", {{"completion_tokens", 2}}}});
  std::vector<uint8_t> junk{0x92, 0x01}; // truncated array: unchanged
  CHECK(stream_final_outputs(junk) == junk);
}

TEST_CASE("a cancelled stream's final outputs") {
  auto j = json::from_msgpack(cancelled_outputs(7));
  CHECK(j["finish_reason"] == "cancelled");
  CHECK(j["usage"]["completion_tokens"] == 7);
}
