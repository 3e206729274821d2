#include "report.hpp"

#include <cmath>
#include <cstdio>

namespace dine::bench {

namespace {

double us(uint64_t ns) {
  return std::round(static_cast<double>(ns) / 100.0) / 10.0; // 0.1 us
}

double rate(const run_result& r) {
  return r.seconds > 0 ? static_cast<double>(r.replies) / r.seconds : 0.0;
}

double cpu_pct(const run_result& r) {
  return r.wall_seconds > 0 ? r.cpu_seconds / r.wall_seconds * 100 : 0.0;
}

uint64_t error_count(const run_result& r) {
  uint64_t n = 0;
  for (auto& kv : r.errors)
    n += kv.second;
  return n;
}

} // namespace

nlohmann::ordered_json to_json(const report_context& ctx, const run_result& r) {
  nlohmann::ordered_json j;
  j["requests"] = r.sent;
  j["ok"] = r.ok;
  j["errors"] = nlohmann::ordered_json::object();
  for (auto& [code, n] : r.errors)
    j["errors"][code] = n;
  j["seconds"] = std::round(r.seconds * 1e6) / 1e6;
  j["rps"] = std::round(rate(r));
  auto& h = r.latency;
  j["latency_us"] = {{"p50", us(h.quantile(0.5))},
                     {"p90", us(h.quantile(0.9))},
                     {"p99", us(h.quantile(0.99))},
                     {"p999", us(h.quantile(0.999))},
                     {"max", us(h.max())},
                     {"mean", std::round(h.mean() / 100.0) / 10.0}};
  j["lost"] = r.lost;
  j["late"] = r.late;
  if (ctx.opts->rate > 0) {
    j["mode"] = "open";
    j["rate"] = ctx.opts->rate;
    j["seed"] = ctx.opts->seed;
    j["dropped_by_client"] = r.dropped;
  } else {
    j["mode"] = "closed";
  }
  j["connections"] = ctx.opts->connections;
  j["depth"] = ctx.opts->depth;
  j["body_bytes"] = ctx.body_bytes;
  j["client_cpu_pct"] = std::round(cpu_pct(r) * 10) / 10;
  if (ctx.batches != nullptr && ctx.batches->have) {
    j["batch_sizes"] = nlohmann::ordered_json::object();
    for (auto& [size, n] : ctx.batches->sizes)
      j["batch_sizes"][std::to_string(size)] = n;
    j["mean_batch"] = std::round(ctx.batches->mean() * 100) / 100;
  }
  if (!r.stages.empty()) {
    // Server-side, from the replies' timings (docs/protocol.md).
    auto& st = j["server_stages_us"];
    for (size_t i = 0; i < r.stages.size(); ++i)
      st[stage_names[i]] = {
          {"p50", us(r.stages[i].quantile(0.5))},
          {"mean", std::round(r.stages[i].mean() / 100.0) / 10.0}};
    st["total"]["p99"] = us(r.stages.back().quantile(0.99));
  }
  if (!r.failure.empty())
    j["failure"] = r.failure;
  return j;
}

void print_text(std::ostream& out, const report_context& ctx,
                const run_result& r) {
  auto& o = *ctx.opts;
  auto& h = r.latency;
  char line[512];
  snprintf(line, sizeof(line),
           "%llu requests in %.3f s: %zu connections x %s%zu in flight, "
           "%zu-byte bodies\n",
           static_cast<unsigned long long>(r.sent), r.seconds, o.connections,
           o.rate > 0 ? "at most " : "", o.depth, ctx.body_bytes);
  out << line;
  if (o.rate > 0)
    snprintf(line, sizeof(line),
             "mode         open, %g req/s offered (Poisson, seed %llu), "
             "latency from scheduled send\n",
             o.rate, static_cast<unsigned long long>(o.seed));
  else
    snprintf(line, sizeof(line), "mode         closed\n");
  out << line;
  snprintf(line, sizeof(line), "requests/s   %.0f\n", rate(r));
  out << line;
  snprintf(line, sizeof(line),
           "latency us   p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
           us(h.quantile(0.5)), us(h.quantile(0.9)), us(h.quantile(0.99)),
           us(h.quantile(0.999)), us(h.max()));
  out << line;
  out << "ok           " << r.ok << '\n';
  out << "errors       " << error_count(r);
  for (auto& [code, n] : r.errors)
    out << "  " << code << '=' << n;
  out << '\n';
  out << "lost         " << r.lost;
  if (r.late > 0)
    out << " (" << r.late << " answered late)";
  out << '\n';
  if (o.rate > 0)
    out << "dropped_by_client " << r.dropped << " (--depth cap reached)\n";
  snprintf(line, sizeof(line), "client cpu   %.0f %%\n", cpu_pct(r));
  out << line;
  if (ctx.batches != nullptr && ctx.batches->have) {
    out << "server batch sizes (since start) ";
    if (ctx.batches->sizes.empty())
      out << " none";
    for (auto& [size, n] : ctx.batches->sizes)
      out << ' ' << size << ':' << n;
    snprintf(line, sizeof(line), "  (mean %.1f)\n", ctx.batches->mean());
    out << line;
  }
  if (!r.failure.empty())
    out << "failure      " << r.failure << '\n';
  if (!r.stages.empty()) {
    out << "server us    p50:";
    for (size_t i = 0; i < r.stages.size(); ++i) {
      snprintf(line, sizeof(line), " %s %.0f", stage_names[i],
               us(r.stages[i].quantile(0.5)));
      out << line;
    }
    snprintf(line, sizeof(line), "  (total p99 %.0f)\n",
             us(r.stages.back().quantile(0.99)));
    out << line;
  }
}

} // namespace dine::bench
