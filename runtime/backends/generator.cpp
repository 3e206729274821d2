#include "runtime/backends/generator.hpp"

#include "messages/errc.hpp"
#include "runtime/backends/tokens_backend.hpp"
#include "runtime/backends/transformer_generator.hpp"
#include "runtime/node_config.hpp"

namespace dine {

generator::~generator() {
  // nop
}

const char* to_string(finish_reason x) {
  switch (x) {
  case finish_reason::none:
    return "none";
  case finish_reason::stop:
    return "stop";
  case finish_reason::length:
    return "length";
  case finish_reason::cancelled:
    return "cancelled";
  case finish_reason::error:
    return "error";
  }
  return "error";
}

bool is_generative(const std::string& backend) {
  // Another generative backend: add its name here and a branch below.
  return backend == "transformer" || backend == "tokens";
}

caf::expected<std::unique_ptr<generator>>
make_generator(const model_config& cfg) {
  if (cfg.backend == "transformer") {
    transformer_options opts;
    opts.threads = static_cast<int32_t>(cfg.threads);
    auto g = transformer_generator::make(cfg, opts);
    if (!g)
      return std::move(g.error());
    return std::unique_ptr<generator>{std::move(*g)};
  }
  if (cfg.backend == "tokens")
    return make_tokens_generator(cfg);
  return make_error(errc::invalid_config, "model `" + cfg.name +
                                              "`: backend `" + cfg.backend +
                                              "` is not generative");
}

} // namespace dine
