// libFuzzer target: the config file parser (docs/operations.md). The input
// is the text of a config file: parsed on top of the defaults, validated,
// and when accepted printed back with `to_config_text` and parsed again
// (what `dine-node --check` prints must be a config that loads).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "runtime/node_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  dine::node_config cfg;
  if (dine::apply_config_text(cfg, text, "fuzz"))
    return 0;
  if (dine::validate(cfg))
    return 0;
  auto printed = dine::to_config_text(cfg);
  dine::node_config again;
  if (auto err = dine::apply_config_text(again, printed, "printed"))
    abort(); // --check printed a config that does not load
  return 0;
}
