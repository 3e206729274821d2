#include "gen_loop.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "histogram.hpp"
#include "messages/errc.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"

namespace dine::bench {

namespace {

using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

/// What the threads measured, merged under a lock.
struct gen_result {
  std::mutex mtx;
  uint64_t ok = 0;
  uint64_t tokens = 0;
  std::map<std::string, uint64_t> errors;
  histogram ttft; ///< Nanoseconds, send to first chunk (or whole reply).
  histogram itl;  ///< Nanoseconds between chunks, per token.
  std::string failure;
};

int64_t ns_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

/// Token count of a chunk's or a reply's outputs.
uint64_t tokens_of(const client_reply& r) {
  try {
    auto j = json::from_msgpack(r.outputs);
    if (j.contains("tokens"))
      return j["tokens"].size();
    if (j.contains("usage"))
      return j["usage"].value("completion_tokens", 0);
  } catch (const std::exception&) {
    // not a generative reply: no tokens
  }
  return 0;
}

void worker(const options& opts, std::atomic<uint64_t>& next,
            clock_type::time_point stop_at, gen_result& res) {
  client_conn conn;
  if (opts.tls)
    conn.use_tls(opts.tls_ctx);
  auto timeout =
      std::chrono::milliseconds{static_cast<int64_t>(opts.timeout_s * 1000)};
  auto err = conn.connect(opts.host, opts.port, timeout);
  if (err.empty() && !opts.api_key.empty())
    err = conn.hello(opts.api_key, timeout);
  if (!err.empty()) {
    std::lock_guard<std::mutex> guard{res.mtx};
    res.failure = err;
    return;
  }
  histogram ttft;
  histogram itl;
  uint64_t ok = 0;
  uint64_t tokens = 0;
  std::map<std::string, uint64_t> errors;
  std::string failure;
  for (;;) {
    auto i = next++;
    if ((opts.requests > 0 && i >= opts.requests) ||
        (opts.requests == 0 && clock_type::now() >= stop_at))
      break;
    client_request req;
    req.id = i + 1;
    req.model = opts.model;
    req.stream = opts.stream;
    req.cache = false; // every generation runs
    req.deadline_ms = opts.deadline_ms;
    auto in =
        json::to_msgpack(json{{"prompt", opts.prompt + " " + std::to_string(i)},
                              {"max_tokens", opts.max_tokens}});
    req.inputs.assign(in.begin(), in.end());
    std::vector<char> buf;
    append_request(buf, req);
    auto sent = clock_type::now();
    if (auto err = conn.send_frames(buf, timeout); !err.empty()) {
      failure = err;
      break;
    }
    auto last = sent;
    bool first = true;
    client_reply r;
    for (;;) { // bounded: each read waits at most `timeout`
      if (auto err = conn.read_reply(r, timeout); !err.empty()) {
        failure = err;
        break;
      }
      auto now = clock_type::now();
      if (r.frame == reply_frame::chunk) {
        auto n = tokens_of(r);
        tokens += n;
        if (first)
          ttft.record(static_cast<uint64_t>(ns_between(sent, now)));
        else if (n > 0)
          for (uint64_t k = 0; k < n; ++k)
            itl.record(static_cast<uint64_t>(ns_between(last, now)) / n);
        first = false;
        last = now;
        continue;
      }
      if (r.code != 0) {
        ++errors[to_string(static_cast<errc>(r.code))];
      } else {
        ++ok;
        if (r.frame == reply_frame::single) {
          tokens += tokens_of(r);
          ttft.record(static_cast<uint64_t>(ns_between(sent, now)));
        }
      }
      break;
    }
    if (!failure.empty())
      break;
  }
  std::lock_guard<std::mutex> guard{res.mtx};
  res.ok += ok;
  res.tokens += tokens;
  for (auto& [k, v] : errors)
    res.errors[k] += v;
  res.ttft.merge(ttft);
  res.itl.merge(itl);
  if (res.failure.empty())
    res.failure = failure;
}

} // namespace

int run_generation(const options& opts, std::ostream& out) {
  gen_result res;
  std::atomic<uint64_t> next{0};
  auto start = clock_type::now();
  auto stop_at = start + std::chrono::milliseconds{
                             static_cast<int64_t>(opts.duration_s * 1000)};
  std::vector<std::thread> threads;
  for (size_t c = 0; c < opts.connections; ++c)
    threads.emplace_back([&] { worker(opts, next, stop_at, res); });
  for (auto& t : threads)
    t.join();
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  json j{{"mode", "generation"},
         {"stream", opts.stream},
         {"concurrency", opts.connections},
         {"max_tokens", opts.max_tokens},
         {"seconds", secs},
         {"ok", res.ok},
         {"errors", res.errors},
         {"output_tokens", res.tokens},
         {"output_tokens_per_s", secs > 0 ? res.tokens / secs : 0.0},
         {"ttft_us",
          {{"p50", us(res.ttft.quantile(0.5))},
           {"p99", us(res.ttft.quantile(0.99))}}},
         {"itl_us",
          {{"p50", us(res.itl.quantile(0.5))},
           {"p99", us(res.itl.quantile(0.99))}}}};
  if (!res.failure.empty())
    j["failure"] = res.failure;
  if (opts.json)
    out << j.dump() << std::endl;
  else
    out << j.dump(2) << std::endl;
  return res.failure.empty() ? 0 : 1;
}

} // namespace dine::bench
