// libFuzzer target: the tokenizer loader (docs/models.md). The input is a
// `tokenizer.bin`; when it loads, a fixed text and the input's own tail
// are encoded and every token decoded, as a worker does for requests.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/backends/tokenizer.hpp"
#include "tests/fuzz/fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dine::fuzz::mem_file file{data, size};
  auto tok = dine::tokenizer::load(file.path());
  if (!tok)
    return 0;
  auto text = std::string_view{reinterpret_cast<const char*>(data),
                               size < 64 ? size : 64};
  for (auto sv :
       {std::string_view{"hello world, \xc3\xa9t\xc3\xa9 \xff"}, text}) {
    auto ids = tok->encode(sv);
    int32_t prev = dine::tokenizer::bos;
    for (auto id : ids) {
      if (id < 0 || id >= tok->vocab_size())
        __builtin_trap(); // encode produced an id outside the vocabulary
      tok->decode(prev, id);
      prev = id;
    }
  }
  return 0;
}
