// dine-bench: closed- or open-loop load generator for the client protocol (see
// options.cpp for the flags and load_loop.hpp for the engine).

#include <signal.h>

#include <iostream>

#include "gen_loop.hpp"
#include "load_loop.hpp"
#include "options.hpp"
#include "report.hpp"
#include "requests.hpp"
#include "server_stats.hpp"

using namespace dine::bench;

int main(int argc, char** argv) {
  options opts;
  if (auto err = parse_options(argc, argv, opts); !err.empty()) {
    std::cerr << "dine-bench: " << err << "\n(see dine-bench --help)\n";
    return 2;
  }
  if (opts.help) {
    std::cout << usage;
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);
  if (opts.max_tokens > 0)
    return run_generation(opts, std::cout);
  std::vector<request_template> templates;
  if (auto err = build_templates(opts, templates); !err.empty()) {
    std::cerr << "dine-bench: " << err << '\n';
    return 2;
  }
  report_context ctx{&opts, templates.front().frame.size() - 4};
  load_loop loop{opts, std::move(templates)};
  if (auto err = loop.connect(); !err.empty()) {
    std::cerr << "dine-bench: --connect: " << err << '\n';
    return 2;
  }
  if (opts.warmup > 0) {
    run_result warm;
    loop.run(phase_limit{opts.warmup, 0}, warm);
    if (!warm.failure.empty()) {
      std::cerr << "dine-bench: warm-up failed: " << warm.failure << '\n';
      return 1;
    }
  }
  run_result res;
  loop.run(phase_limit{opts.requests, opts.duration_s}, res);
  batch_stats batches;
  if (opts.op == dine::op_code::infer) {
    if (auto err = fetch_batch_stats(opts, batches); !err.empty())
      std::cerr << "dine-bench: note: could not read the server batch sizes "
                   "(stats op): "
                << err << '\n';
    else
      ctx.batches = &batches;
  }
  if (opts.json)
    std::cout << to_json(ctx, res).dump() << std::endl;
  else
    print_text(std::cout, ctx, res);
  auto bad = res.errors.count("bad_reply") ? res.errors.at("bad_reply") : 0;
  return res.failure.empty() && res.lost == 0 && bad == 0 ? 0 : 1;
}
