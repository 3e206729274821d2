#include "runtime/model_backend.hpp"

#include <msgpack.hpp>

#include "messages/errc.hpp"
#include "runtime/msgpack_reader.hpp"

namespace dine {

model_backend::~model_backend() {
  // nop
}

std::chrono::microseconds model_backend::delay(size_t) const {
  return std::chrono::microseconds{0};
}

uint64_t fnv1a(const uint8_t* data, size_t size) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 1099511628211ull;
  }
  return h;
}

std::vector<uint8_t> fnv1a_outputs(const uint8_t* data, size_t size) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  pk.pack_map(1);
  pk.pack(std::string{"fnv1a"});
  pk.pack_uint64(fnv1a(data, size));
  auto p = reinterpret_cast<const uint8_t*>(buf.data());
  return {p, p + buf.size()};
}

namespace {

/// Returns the inputs as outputs.
class echo_backend : public model_backend {
public:
  void run(std::vector<batch_item>& in,
           std::vector<item_result>& out) override {
    for (size_t i = 0; i < in.size(); ++i)
      out[i].outputs = std::move(in[i].inputs);
  }
};

/// Returns the value of key `invalid` if `inputs` is a map holding it:
/// `cost` and `sleep` reject such an item alone (a per-item error).
bool marked_invalid(const std::vector<uint8_t>& inputs) {
  msgpack_reader rd{inputs.data(), inputs.size()};
  return find_map_key(rd, "invalid");
}

void hash_outputs(const std::vector<batch_item>& in,
                  std::vector<item_result>& out) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (marked_invalid(in[i].inputs)) {
      out[i].code = static_cast<uint8_t>(errc::invalid_input);
      out[i].message = "inputs carry the key `invalid`";
      continue;
    }
    out[i].outputs = fnv1a_outputs(in[i].inputs.data(), in[i].inputs.size());
  }
}

/// Burns CPU for fixed_us + per_item_us * batch: batching pays because the
/// fixed part is shared, as on an accelerator.
class cost_backend : public model_backend {
public:
  explicit cost_backend(const model_config& cfg) : cfg_(cfg) {
    // nop
  }

  void run(std::vector<batch_item>& in,
           std::vector<item_result>& out) override {
    using clock = std::chrono::steady_clock;
    auto until = clock::now() +
                 std::chrono::microseconds{
                     cfg_.fixed_us + uint64_t{cfg_.per_item_us} * in.size()};
    volatile uint64_t sink = 0;
    while (clock::now() < until)
      for (int i = 0; i < 64; ++i)
        sink = sink + static_cast<uint64_t>(i);
    hash_outputs(in, out);
  }

private:
  model_config cfg_;
};

/// The latency of `cost` without CPU: a simulated accelerator.
class sleep_backend : public model_backend {
public:
  explicit sleep_backend(const model_config& cfg) : cfg_(cfg) {
    // nop
  }

  void run(std::vector<batch_item>& in,
           std::vector<item_result>& out) override {
    hash_outputs(in, out);
  }

  std::chrono::microseconds delay(size_t n) const override {
    return std::chrono::microseconds{cfg_.fixed_us +
                                     uint64_t{cfg_.per_item_us} * n};
  }

private:
  model_config cfg_;
};

} // namespace

caf::expected<std::unique_ptr<model_backend>>
make_backend(const model_config& cfg) {
  if (cfg.backend == "echo")
    return std::unique_ptr<model_backend>{new echo_backend};
  if (cfg.backend == "cost")
    return std::unique_ptr<model_backend>{new cost_backend(cfg)};
  if (cfg.backend == "sleep")
    return std::unique_ptr<model_backend>{new sleep_backend(cfg)};
  return make_error(errc::invalid_config, "model `" + cfg.name +
                                              "`: unknown backend `" +
                                              cfg.backend + "`");
}

} // namespace dine
