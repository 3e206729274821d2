#include "runtime/backends/synthetic.hpp"

#include "messages/errc.hpp"
#include "runtime/msgpack_reader.hpp"

namespace dine {

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

std::unique_ptr<model_backend> make_echo_backend() {
  return std::unique_ptr<model_backend>{new echo_backend};
}

std::unique_ptr<model_backend> make_cost_backend(const model_config& cfg) {
  return std::unique_ptr<model_backend>{new cost_backend(cfg)};
}

std::unique_ptr<model_backend> make_sleep_backend(const model_config& cfg) {
  return std::unique_ptr<model_backend>{new sleep_backend(cfg)};
}

} // namespace dine
