// bench_generate: tokens/s of the transformer generator alone (no actors,
// no sockets) at several batch sizes; docs/benchmarks.md records its runs.
//
//   dine-bench-generate --checkpoint=M.bin --tokenizer=M.tok
//       [--batch=1,4,16,64] [--max-tokens=128] [--kernel=blas|blocked]
//       [--threads=2] [--kv-cache-bytes=N] [--prompt=TEXT]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "messages/errc.hpp"
#include "runtime/backends/transformer_generator.hpp"
#include "runtime/node_config.hpp"

using namespace dine;

namespace {

/// CPU seconds of this process (all threads): with other load on the
/// machine, tokens per CPU second is the steadier figure.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

std::vector<uint8_t> request(const std::string& prompt, uint32_t max_tokens) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  pk.pack_map(3);
  pk.pack(std::string{"prompt"});
  pk.pack(prompt);
  pk.pack(std::string{"max_tokens"});
  pk.pack_uint32(max_tokens);
  pk.pack(std::string{"temperature"});
  pk.pack(0.0);
  return {buf.data(), buf.data() + buf.size()};
}

} // namespace

int main(int argc, char** argv) {
  model_config cfg;
  cfg.name = "bench";
  cfg.backend = "transformer";
  cfg.kv_cache_bytes = 1ull << 30;
  transformer_options opts;
  std::vector<uint32_t> batches{1, 4, 16, 64};
  uint32_t max_tokens = 128;
  std::string prompt = "Once upon a time";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto eq = a.find('=');
    auto k = a.substr(0, eq);
    auto v = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (k == "--checkpoint")
      cfg.checkpoint = v;
    else if (k == "--tokenizer")
      cfg.tokenizer = v;
    else if (k == "--max-tokens")
      max_tokens = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--threads")
      opts.threads = std::stoi(v);
    else if (k == "--kv-cache-bytes")
      cfg.kv_cache_bytes = std::stoull(v);
    else if (k == "--prompt")
      prompt = v;
    else if (k == "--kernel" && (v == "blas" || v == "blocked"))
      opts.kernel = v == "blas" ? gemm_kernel::blas : gemm_kernel::blocked;
    else if (k == "--batch") {
      batches.clear();
      for (size_t p = 0; p < v.size();) {
        auto c = v.find(',', p);
        batches.push_back(
            static_cast<uint32_t>(std::stoul(v.substr(p, c - p))));
        p = c == std::string::npos ? v.size() : c + 1;
      }
    } else {
      std::fprintf(stderr, "bench_generate: bad argument %s\n", a.c_str());
      return 2;
    }
  }
  for (auto b : batches) {
    cfg.max_running = b;
    auto gen = transformer_generator::make(cfg, opts);
    if (!gen) {
      std::fprintf(stderr, "%s\n", classify(gen.error()).second.c_str());
      return 1;
    }
    auto& g = **gen;
    auto until = generator::clock::now() + std::chrono::hours{1};
    for (uint32_t i = 0; i < b; ++i)
      if (auto err = g.add(i, request(prompt, max_tokens), until)) {
        std::fprintf(stderr, "%s\n", classify(err).second.c_str());
        return 1;
      }
    std::vector<gen_event> evs;
    uint64_t tokens = 0;
    uint32_t steps = 0;
    auto t0 = std::chrono::steady_clock::now();
    auto c0 = cpu_seconds();
    while (g.busy() && steps < 100000) {
      evs.clear();
      g.step(evs);
      ++steps;
      for (auto& e : evs)
        tokens += e.tokens.size();
    }
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    double cpu = cpu_seconds() - c0;
    std::printf("batch %3u: %6llu tokens in %7.3f s = %8.1f tok/s (%u steps, "
                "%.2f ms/step; %.3f CPU s = %.1f tok per CPU s)\n",
                b, static_cast<unsigned long long>(tokens), secs,
                static_cast<double>(tokens) / secs, steps, 1e3 * secs / steps,
                cpu, static_cast<double>(tokens) / cpu);
    std::fflush(stdout);
  }
  return 0;
}
