#include "options.hpp"

#include <algorithm>
#include <cstdlib>

#include "messages/errc.hpp"
#include "runtime/cli_parser.hpp"
#include "runtime/client_conn.hpp"

namespace dine::bench {

const char* usage = R"(usage: dine-bench --connect=HOST:PORT --model=M
                  (--requests=K | --duration=S) [options]

Load generator for the dine client protocol: one thread, epoll,
non-blocking sockets, pre-built request frames. Closed loop by default: each
connection keeps --depth requests in flight. Open loop with --rate: requests
go out at Poisson arrivals regardless of replies, round-robin over the
connections, and latency counts from the scheduled send time (no coordinated
omission). Prints requests/s, latency percentiles (per request), ok replies,
errors by code and lost requests, then the server's batch-size histogram for
--model (cumulative since the node started, from the `stats` op).

  --connect=HOST:PORT  node to load (required)
  --model=NAME         model to call (required for --op=infer)
  --op=OP              infer (default), health, models or stats
  --connections=N      TCP connections (default 8)
  --depth=D            requests in flight per connection (default 32); with
                       --rate only a safety cap (default 100000, at most
                       16777216 / connections): arrivals finding it full
                       are not sent and count as dropped_by_client
  --rate=R             open loop: offer R requests/s (Poisson arrivals)
  --seed=N             seed of the open loop's arrival times (default 1)
  --requests=K         send K requests, then wait for the replies
  --duration=S         send for S seconds, then wait for the replies
  --warmup=K           K requests before measuring (default 0)
  --payload-bytes=B    approximate request body size: `inputs` is a bin
                       padded to reach it (default 64)
  --inputs=JSON        send these inputs instead of the padding
  --key-spread=N       set key="k<i mod N>" on request i (default: no key)
  --no-cache           send cache=false
  --deadline-ms=N      send deadline_ms=N
  --timeout=SECONDS    count requests unanswered this long as lost
                       (default 10)
  --api-key=KEY        send a hello frame with KEY after connecting
                       (default: $DINE_API_KEY; docs/protocol.md)
  --tls                speak TLS to a node with client-tls (docs/security.md,
                       "Client port TLS"), verifying its certificate
  --ca=FILE            the CA (PEM) the node's certificate must chain to,
                       e.g. the cluster's ca.pem (implies --tls; default:
                       the system's CA store)
  --tls-name=NAME      also require NAME in the node certificate's DNS
                       names (or CN), e.g. the NODE of tools/mkcerts.sh
  --json               print the result as one JSON object
  --stages             decode every reply's `timings` and report the
                       server's per-stage p50/mean and `total` p50/p99 next
                       to the client's latency (costs client CPU)
  --max-tokens=N       generation mode (generative models): each connection
                       runs one generation of N tokens at a time (inputs
                       {prompt: "<--prompt> <i>", max_tokens: N}, cache
                       off); prints output tokens/s, time to first token
                       p50/p99 and, with --stream, inter-token latency
  --stream             generation mode: stream the tokens
  --prompt=TEXT        generation mode: prompt prefix (default "Once upon
                       a time")
  --help               print this text

Replies whose id matches no outstanding request count as errors
"bad_reply". Exit code: 0 when the run completed, 1 if a connection failed
during the run or requests were lost or bad replies arrived, 2 for usage
or connection errors before the run.
)";

namespace {

bool parse_op(const std::string& name, op_code& out) {
  for (auto op :
       {op_code::infer, op_code::health, op_code::models, op_code::stats})
    if (name == to_string(op)) {
      out = op;
      return true;
    }
  return false;
}

} // namespace

std::string parse_options(int argc, char** argv, options& out) {
  bool have_connect = false;
  if (auto env = std::getenv("DINE_API_KEY"))
    out.api_key = env;
  auto on = [](bool& flag) {
    return [&flag](const std::string&) {
      flag = true;
      return std::string{};
    };
  };
  auto number = [](const char* flag, uint64_t min, uint64_t max, auto& field) {
    return [=, &field](const std::string& v) {
      return cli_uint(flag, v, min, max, field);
    };
  };
  std::vector<cli_flag> flags{
      {"--json", false, on(out.json)},
      {"--no-cache", false,
       [&](const std::string&) {
         out.cache = false;
         return std::string{};
       }},
      {"--stages", false, on(out.stages)},
      {"--stream", false, on(out.stream)},
      {"--connect", true,
       [&](const std::string& v) {
         have_connect = true;
         auto err = split_host_port(v, out.host, out.port);
         return err.empty() ? err : "--connect: " + err;
       }},
      {"--model", true,
       [&](const std::string& v) {
         return cli_nonempty("--model", v, out.model);
       }},
      {"--op", true,
       [&](const std::string& v) {
         return parse_op(v, out.op)
                    ? std::string{}
                    : "--op must be infer, health, models or stats, got `" + v +
                          "`";
       }},
      {"--connections", true,
       number("--connections", 1, 10000, out.connections)},
      {"--depth", true,
       [&](const std::string& v) {
         out.depth_set = true;
         return cli_uint("--depth", v, 1, 1u << 24, out.depth);
       }},
      {"--rate", true,
       [&](const std::string& v) {
         return cli_positive(v, 1e8, out.rate)
                    ? std::string{}
                    : "--rate must be a positive number of requests/s (at "
                      "most 1e8), got `" +
                          v + "`";
       }},
      {"--seed", true, number("--seed", 0, UINT64_MAX, out.seed)},
      {"--requests", true,
       number("--requests", 1, uint64_t{1} << 40, out.requests)},
      {"--duration", true,
       [&](const std::string& v) {
         return cli_seconds("--duration", v, 1e7, out.duration_s);
       }},
      {"--warmup", true, number("--warmup", 0, uint64_t{1} << 40, out.warmup)},
      {"--payload-bytes", true,
       number("--payload-bytes", 0, 16u << 20, out.payload_bytes)},
      {"--inputs", true, cli_text(out.inputs_json)},
      {"--key-spread", true,
       number("--key-spread", 1, 10000000, out.key_spread)},
      {"--max-tokens", true,
       number("--max-tokens", 1, 1000000, out.max_tokens)},
      {"--prompt", true, cli_text(out.prompt)},
      {"--deadline-ms", true,
       number("--deadline-ms", 0, UINT32_MAX, out.deadline_ms)},
      {"--timeout", true,
       [&](const std::string& v) {
         return cli_seconds("--timeout", v, 1e7, out.timeout_s);
       }},
  };
  add_client_port_flags(flags, out.api_key, out.tls, out.ca, out.tls_name);
  if (auto err = parse_cli(argc, argv, flags, out.help);
      !err.empty() || out.help)
    return err;
  if (!have_connect)
    return "missing --connect=HOST:PORT";
  if (!out.tls && !out.tls_name.empty())
    return "--tls-name needs --tls or --ca";
  if (out.tls) {
    auto ctx = tls_context::client(out.ca, out.tls_name);
    if (!ctx)
      return classify(ctx.error()).second;
    out.tls_ctx = std::move(*ctx);
  }
  if (out.op == op_code::infer && out.model.empty())
    return "--model is required for --op=infer";
  if ((out.requests == 0) == (out.duration_s == 0))
    return "give exactly one of --requests=K and --duration=S";
  if (out.rate > 0 && !out.depth_set)
    out.depth = std::max<size_t>(
        1, std::min<size_t>(100000, (size_t{1} << 24) / out.connections));
  if (out.connections * out.depth > (size_t{1} << 24))
    return "--connections x --depth must not exceed 16777216";
  return {};
}

} // namespace dine::bench
