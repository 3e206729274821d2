#include "runtime/backends/gen_request.hpp"

#include <cmath>

#include <msgpack.hpp>

#include "messages/errc.hpp"
#include "runtime/msgpack_reader.hpp"

namespace dine {

namespace {

using kind = msgpack_reader::kind;

caf::error bad(const std::string& what) {
  return make_error(errc::invalid_input, what);
}

bool is_int(kind k) {
  return k == kind::uint || k == kind::sint;
}

bool read_number(msgpack_reader& rd, double& x) {
  auto k = rd.peek();
  return (is_int(k) || k == kind::real) && rd.read_double(x);
}

} // namespace

caf::expected<gen_params> parse_gen_inputs(const std::vector<uint8_t>& inputs,
                                           const tokenizer& tok,
                                           int32_t seq_len) {
  msgpack_reader rd{inputs.data(), inputs.size()};
  uint32_t n = 0;
  if (rd.peek() != kind::map || !rd.read_map_header(n))
    return bad("inputs must be a map with `prompt` or `tokens`");
  gen_params p;
  bool have_prompt = false;
  bool have_tokens = false;
  std::string_view text;
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key;
    if (rd.peek() != kind::str || !rd.read_str(key))
      return bad("inputs: keys must be strings");
    if (key == "prompt") {
      if (rd.peek() != kind::str || !rd.read_str(text))
        return bad("`prompt` must be a string");
      have_prompt = true;
    } else if (key == "tokens") {
      uint32_t m = 0;
      if (rd.peek() != kind::array || !rd.read_array_header(m))
        return bad("`tokens` must be an array of token ids");
      if (m >= static_cast<uint32_t>(seq_len))
        return bad("`tokens` holds " + std::to_string(m) +
                   " tokens, the context window is " + std::to_string(seq_len) +
                   " (at most " + std::to_string(seq_len - 1) +
                   " for a prompt)");
      p.prompt.reserve(m);
      for (uint32_t j = 0; j < m; ++j) {
        int64_t id = -1;
        if (!is_int(rd.peek()) || !rd.read_int(id) || id < 0 ||
            id >= tok.vocab_size())
          return bad("`tokens`[" + std::to_string(j) +
                     "] is not a token id in 0.." +
                     std::to_string(tok.vocab_size() - 1));
        p.prompt.push_back(static_cast<int32_t>(id));
      }
      have_tokens = true;
    } else if (key == "max_tokens") {
      uint64_t x = 0;
      if (rd.peek() != kind::uint || !rd.read_uint(x) || x == 0)
        return bad("`max_tokens` must be a positive integer");
      p.max_tokens = x > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(x);
    } else if (key == "temperature") {
      double x = 0;
      if (!read_number(rd, x) || !std::isfinite(x))
        return bad("`temperature` must be a number");
      if (x < 0)
        return bad("`temperature` must not be negative");
      p.temperature = static_cast<float>(x);
    } else if (key == "top_p") {
      double x = 0;
      if (!read_number(rd, x) || !std::isfinite(x))
        return bad("`top_p` must be a number");
      if (!(x > 0 && x <= 1))
        return bad("`top_p` must be in (0, 1]");
      p.top_p = static_cast<float>(x);
    } else if (key == "seed") {
      uint64_t x = 0;
      if (rd.peek() != kind::uint || !rd.read_uint(x))
        return bad("`seed` must be a non-negative integer");
      p.seed = x;
    } else if (key == "stop") {
      auto add = [&p](std::string_view s) -> caf::error {
        if (s.empty() || s.size() > max_stop_length)
          return bad("`stop` strings must be 1.." +
                     std::to_string(max_stop_length) + " bytes");
        p.stop.emplace_back(s);
        return caf::none;
      };
      std::string_view s;
      if (rd.peek() == kind::str) {
        if (!rd.read_str(s))
          return bad("`stop` is malformed");
        if (auto err = add(s))
          return err;
      } else {
        uint32_t m = 0;
        if (rd.peek() != kind::array || !rd.read_array_header(m))
          return bad("`stop` must be a string or an array of strings");
        if (m > max_stop_strings)
          return bad("`stop` holds more than " +
                     std::to_string(max_stop_strings) + " strings");
        for (uint32_t j = 0; j < m; ++j) {
          if (rd.peek() != kind::str || !rd.read_str(s))
            return bad("`stop` must be a string or an array of strings");
          if (auto err = add(s))
            return err;
        }
      }
    } else if (!rd.skip()) {
      return bad("inputs are malformed");
    }
  }
  if (have_prompt == have_tokens)
    return bad("inputs need exactly one of `prompt` (a string) and `tokens` "
               "(an array of token ids)");
  if (have_tokens && p.prompt.empty())
    return bad("`tokens` is empty");
  if (have_prompt) {
    // Every token covers at most max_token_length bytes, so a longer text
    // cannot fit the window: reject it before encoding.
    uint64_t bound = uint64_t(seq_len) * (tok.max_token_length() + 4);
    if (text.size() > bound)
      return bad("`prompt` is longer than the context window of " +
                 std::to_string(seq_len) + " tokens");
    p.prompt = tok.encode(text);
    if (p.prompt.size() >= static_cast<size_t>(seq_len))
      return bad("`prompt` is " + std::to_string(p.prompt.size()) +
                 " tokens, the context window is " + std::to_string(seq_len) +
                 " (at most " + std::to_string(seq_len - 1) + " for a prompt)");
  }
  return p;
}

std::vector<uint8_t> encode_gen_outputs(const std::string& text,
                                        const std::vector<int32_t>& tokens,
                                        const char* finish_reason,
                                        size_t prompt_tokens) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  pk.pack_map(4);
  pk.pack(std::string{"text"});
  pk.pack(text);
  pk.pack(std::string{"tokens"});
  pk.pack_array(static_cast<uint32_t>(tokens.size()));
  for (auto t : tokens)
    pk.pack_int32(t);
  pk.pack(std::string{"finish_reason"});
  pk.pack(std::string{finish_reason});
  pk.pack(std::string{"usage"});
  pk.pack_map(2);
  pk.pack(std::string{"prompt_tokens"});
  pk.pack_uint64(prompt_tokens);
  pk.pack(std::string{"completion_tokens"});
  pk.pack_uint64(tokens.size());
  return std::vector<uint8_t>(buf.data(), buf.data() + buf.size());
}

} // namespace dine
