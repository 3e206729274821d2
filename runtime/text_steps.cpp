#include "runtime/text_steps.hpp"

#include "messages/errc.hpp"
#include "runtime/msgpack_edit.hpp"

namespace dine {

namespace {

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

/// The text a step works on: `inputs` itself or its `field`; null if none.
const msgpack::object* text_of(const msgpack::object& in,
                               const std::string& field) {
  if (in.type == msgpack::type::STR)
    return &in;
  auto v = map_find(in, field);
  return v != nullptr && v->type == msgpack::type::STR ? v : nullptr;
}

std::string_view view(const msgpack::object& s) {
  return {s.via.str.ptr, s.via.str.size};
}

} // namespace

std::string normalize_text(std::string_view text, bool fold_case) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f || is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out += ' ';
      pending_space = false;
    }
    if (fold_case && c >= 'A' && c <= 'Z')
      c = static_cast<unsigned char>(c - 'A' + 'a');
    out += static_cast<char>(c);
  }
  return out;
}

caf::error normalize_inputs(std::vector<uint8_t>& inputs, const step_spec& s) {
  msgpack::zone zone;
  auto in = unpack_value(zone, inputs, "inputs");
  if (!in)
    return std::move(in.error());
  auto t = text_of(*in, s.field);
  if (t == nullptr)
    return caf::none;
  auto text = normalize_text(view(*t), s.fold_case);
  if (t == &*in) {
    msgpack::sbuffer buf;
    msgpack_out pk{buf};
    pk.pack(text);
    inputs = to_bytes(buf);
    return caf::none;
  }
  inputs = rewrite_map(*in, {s.field}, 1, [&](msgpack_out& pk) {
    pk.pack(s.field);
    pk.pack(text);
  });
  return caf::none;
}

caf::error tokenize_inputs(std::vector<uint8_t>& inputs, const step_spec& s,
                           const tokenizer& tok) {
  msgpack::zone zone;
  auto in = unpack_value(zone, inputs, "inputs");
  if (!in)
    return std::move(in.error());
  auto t = text_of(*in, s.field);
  if (t == nullptr)
    return caf::none;
  if (t != &*in && s.field != "tokens" && map_find(*in, "tokens") != nullptr)
    return make_error(errc::invalid_input,
                      "inputs have both `" + s.field + "` and `tokens`");
  auto ids = tok.encode(view(*t));
  auto pack_ids = [&](msgpack_out& pk) {
    pk.pack(std::string{"tokens"});
    pk.pack_array(static_cast<uint32_t>(ids.size()));
    for (auto id : ids)
      pk.pack_int32(id);
  };
  if (t == &*in) {
    msgpack::sbuffer buf;
    msgpack_out pk{buf};
    pk.pack_map(1);
    pack_ids(pk);
    inputs = to_bytes(buf);
    return caf::none;
  }
  inputs = rewrite_map(*in, {s.field}, 1, pack_ids);
  return caf::none;
}

caf::error detokenize_outputs(std::vector<uint8_t>& outputs,
                              const tokenizer& tok) {
  msgpack::zone zone;
  auto out = unpack_value(zone, outputs, "outputs");
  if (!out)
    return std::move(out.error());
  auto ts = map_find(*out, "tokens");
  if (ts == nullptr)
    return caf::none;
  if (ts->type != msgpack::type::ARRAY)
    return make_error(errc::invalid_input, "`tokens` is not an array");
  std::string text;
  int32_t prev = 0; // no BOS before generated tokens
  for (uint32_t i = 0; i < ts->via.array.size; ++i) {
    auto& v = ts->via.array.ptr[i];
    if (v.type != msgpack::type::POSITIVE_INTEGER ||
        v.via.u64 >= static_cast<uint64_t>(tok.vocab_size()))
      return make_error(errc::invalid_input,
                        "`tokens`[" + std::to_string(i) +
                            "] is not a token id below " +
                            std::to_string(tok.vocab_size()));
    auto id = static_cast<int32_t>(v.via.u64);
    text += tok.decode(prev, id);
    prev = id;
  }
  outputs = rewrite_map(*out, {"text"}, 1, [&](msgpack_out& pk) {
    pk.pack(std::string{"text"});
    pk.pack(text);
  });
  return caf::none;
}

} // namespace dine
