// dine-mkmodel: writes a deterministic random llama2.c checkpoint and a
// matching tokenizer.bin (docs/models.md).

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "messages/errc.hpp"
#include "runtime/backends/model_writer.hpp"

namespace {

const char* usage_text =
    "usage: dine-mkmodel --out=PREFIX [--dim=288] [--hidden-dim=768]\n"
    "         [--layers=6] [--heads=6] [--kv-heads=6] [--vocab=32000]\n"
    "         [--seq-len=256] [--seed=1] [--unshared]\n"
    "writes PREFIX.bin (checkpoint) and PREFIX.tok (tokenizer.bin format)\n"
    "(--out may also name the checkpoint, e.g. m.bin: then m.tok)\n";

bool parse_int(const std::string& v, long long lo, long long hi,
               long long& out) {
  char* end = nullptr;
  errno = 0;
  auto x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || x < lo || x > hi)
    return false;
  out = x;
  return true;
}

} // namespace

int main(int argc, char** argv) {
  dine::model_shape s;
  s.dim = 288;
  s.hidden_dim = 768;
  s.n_layers = 6;
  s.n_heads = 6;
  s.n_kv_heads = 6;
  s.vocab_size = 32000;
  s.seq_len = 256;
  long long seed = 1;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage_text, stdout);
      return 0;
    }
    if (arg == "--unshared") {
      s.shared_cls = false;
      continue;
    }
    auto eq = arg.find('=');
    auto key = arg.substr(0, eq);
    auto val = eq == std::string::npos ? std::string{} : arg.substr(eq + 1);
    long long x = 0;
    auto num = [&](int32_t& dst) {
      if (!parse_int(val, 1, 1 << 30, x))
        return false;
      dst = static_cast<int32_t>(x);
      return true;
    };
    bool ok = true;
    if (key == "--out")
      out = val, ok = !val.empty();
    else if (key == "--dim")
      ok = num(s.dim);
    else if (key == "--hidden-dim")
      ok = num(s.hidden_dim);
    else if (key == "--layers")
      ok = num(s.n_layers);
    else if (key == "--heads")
      ok = num(s.n_heads);
    else if (key == "--kv-heads")
      ok = num(s.n_kv_heads);
    else if (key == "--vocab")
      ok = num(s.vocab_size);
    else if (key == "--seq-len")
      ok = num(s.seq_len);
    else if (key == "--seed")
      ok = parse_int(val, 0, INT64_MAX, seed);
    else
      ok = false;
    if (!ok) {
      std::fprintf(stderr, "dine-mkmodel: bad argument `%s`\n%s", arg.c_str(),
                   usage_text);
      return 2;
    }
  }
  if (out.empty()) {
    std::fputs(usage_text, stderr);
    return 2;
  }
  if (out.size() > 4 && out.compare(out.size() - 4, 4, ".bin") == 0)
    out.resize(out.size() - 4);
  auto cp = out + ".bin";
  auto tk = out + ".tok";
  auto useed = static_cast<uint64_t>(seed);
  if (auto err = dine::write_random_checkpoint(cp, s, useed)) {
    std::fprintf(stderr, "dine-mkmodel: %s\n",
                 dine::classify(err).second.c_str());
    return 1;
  }
  auto tok = dine::make_vocabulary(s.vocab_size, useed);
  if (auto err = tok.save(tk)) {
    std::fprintf(stderr, "dine-mkmodel: %s\n",
                 dine::classify(err).second.c_str());
    return 1;
  }
  std::printf("%s\n%s\n", cp.c_str(), tk.c_str());
  return 0;
}
