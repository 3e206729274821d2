#include "runtime/classify_steps.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "messages/errc.hpp"
#include "runtime/msgpack_edit.hpp"

namespace dine {

namespace {

caf::error bad(const std::string& what) {
  return make_error(errc::invalid_input, what);
}

/// Reads the numbers of array `a` (named `name` in errors) into `xs`.
caf::error read_numbers(const msgpack::object& a, const char* name,
                        std::vector<double>& xs) {
  if (a.type != msgpack::type::ARRAY || a.via.array.size == 0)
    return bad(std::string{"`"} + name + "` must be a non-empty array");
  xs.resize(a.via.array.size);
  for (uint32_t i = 0; i < a.via.array.size; ++i)
    if (!as_number(a.via.array.ptr[i], xs[i]) || !std::isfinite(xs[i]))
      return bad(std::string{"`"} + name + "`[" + std::to_string(i) +
                 "] is not a finite number");
  return caf::none;
}

/// Replaces the array `key` of `out` (or `out` itself, a bare array) by
/// `new_key`, written by `f(pk)`.
template <class F>
std::vector<uint8_t> replace(const msgpack::object& out, const char* key,
                             const char* new_key, F f) {
  auto write = [&](msgpack_out& pk) {
    pk.pack(std::string{new_key});
    f(pk);
  };
  if (out.type == msgpack::type::ARRAY) {
    msgpack::sbuffer buf;
    msgpack_out pk{buf};
    pk.pack_map(1);
    write(pk);
    return to_bytes(buf);
  }
  return rewrite_map(out, {key}, 1, write);
}

/// The array a step reads: `out` itself or its `key`; null if neither.
const msgpack::object* source(const msgpack::object& out, const char* key) {
  if (out.type == msgpack::type::ARRAY)
    return &out;
  return map_find(out, key);
}

} // namespace

caf::error softmax_outputs(std::vector<uint8_t>& outputs) {
  msgpack::zone zone;
  auto out = unpack_value(zone, outputs, "outputs");
  if (!out)
    return std::move(out.error());
  auto a = source(*out, "logits");
  if (a == nullptr)
    return bad("outputs need `logits` (an array of numbers)");
  std::vector<double> xs;
  if (auto err = read_numbers(*a, "logits", xs))
    return err;
  auto hi = *std::max_element(xs.begin(), xs.end());
  double sum = 0;
  for (auto& x : xs)
    sum += (x = std::exp(x - hi));
  outputs = replace(*out, "logits", "probs", [&](msgpack_out& pk) {
    pk.pack_array(static_cast<uint32_t>(xs.size()));
    for (auto x : xs)
      pk.pack_double(x / sum);
  });
  return caf::none;
}

caf::error top_k_outputs(std::vector<uint8_t>& outputs, uint32_t k) {
  msgpack::zone zone;
  auto out = unpack_value(zone, outputs, "outputs");
  if (!out)
    return std::move(out.error());
  auto a = source(*out, "probs");
  if (a == nullptr)
    return bad("outputs need `probs` (an array of numbers)");
  std::vector<double> xs;
  if (auto err = read_numbers(*a, "probs", xs))
    return err;
  std::vector<uint32_t> idx(xs.size());
  std::iota(idx.begin(), idx.end(), 0u);
  auto n = std::min<size_t>(k, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<ptrdiff_t>(n),
                    idx.end(), [&](uint32_t a, uint32_t b) {
                      return xs[a] > xs[b] || (xs[a] == xs[b] && a < b);
                    });
  outputs = replace(*out, "probs", "top", [&](msgpack_out& pk) {
    pk.pack_array(static_cast<uint32_t>(n));
    for (size_t i = 0; i < n; ++i) {
      pk.pack_map(2);
      pk.pack(std::string{"index"});
      pk.pack_uint32(idx[i]);
      pk.pack(std::string{"score"});
      pk.pack_double(xs[idx[i]]);
    }
  });
  return caf::none;
}

caf::error label_outputs(std::vector<uint8_t>& outputs,
                         const std::vector<std::string>& names) {
  msgpack::zone zone;
  auto out = unpack_value(zone, outputs, "outputs");
  if (!out)
    return std::move(out.error());
  auto top = map_find(*out, "top");
  if (top == nullptr || top->type != msgpack::type::ARRAY)
    return bad("outputs need `top` (run `top-k` before `labels`)");
  std::vector<const std::string*> labels(top->via.array.size);
  for (uint32_t i = 0; i < top->via.array.size; ++i) {
    auto& e = top->via.array.ptr[i];
    auto ix = map_find(e, "index");
    if (ix == nullptr || ix->type != msgpack::type::POSITIVE_INTEGER)
      return bad("`top`[" + std::to_string(i) + "] has no `index`");
    if (ix->via.u64 >= names.size())
      return bad("class " + std::to_string(ix->via.u64) + " has no label (" +
                 std::to_string(names.size()) + " names)");
    labels[i] = &names[ix->via.u64];
  }
  outputs = rewrite_map(*out, {"top"}, 1, [&](msgpack_out& pk) {
    pk.pack(std::string{"top"});
    pk.pack_array(top->via.array.size);
    for (uint32_t i = 0; i < top->via.array.size; ++i) {
      auto& e = top->via.array.ptr[i];
      uint32_t kept = 0;
      for (uint32_t j = 0; j < e.via.map.size; ++j)
        if (map_find(e, "label") != &e.via.map.ptr[j].val)
          ++kept;
      pk.pack_map(kept + 1);
      for (uint32_t j = 0; j < e.via.map.size; ++j) {
        auto& kv = e.via.map.ptr[j];
        if (map_find(e, "label") == &kv.val)
          continue;
        pk.pack(kv.key);
        pk.pack(kv.val);
      }
      pk.pack(std::string{"label"});
      pk.pack(*labels[i]);
    }
  });
  return caf::none;
}

} // namespace dine
