#include "runtime/model_backend.hpp"

#include <msgpack.hpp>

#include "messages/errc.hpp"
#include "runtime/backends/stage_backend.hpp"
#include "runtime/backends/synthetic.hpp"

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

caf::expected<std::unique_ptr<model_backend>>
make_backend(const model_config& cfg) {
  if (cfg.backend == "echo")
    return make_echo_backend();
  if (cfg.backend == "cost")
    return make_cost_backend(cfg);
  if (cfg.backend == "sleep")
    return make_sleep_backend(cfg);
  if (cfg.backend == "stage")
    return make_stage_backend(cfg);
  return make_error(errc::invalid_config, "model `" + cfg.name +
                                              "`: unknown backend `" +
                                              cfg.backend + "`");
}

} // namespace dine
