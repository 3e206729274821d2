#include "options.hpp"
#include "runtime/config_parse.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "messages/errc.hpp"
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

std::string parse_uint(const std::string& flag, const std::string& value,
                       uint64_t min, uint64_t max, uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  auto x = strtoull(value.c_str(), &end, 10);
  if (value.empty() || value[0] == '-' || *end != '\0' || errno != 0 ||
      x < min || x > max)
    return flag + " must be an integer in " + std::to_string(min) + ".." +
           std::to_string(max) + ", got `" + value + "`";
  out = x;
  return {};
}

std::string parse_seconds(const std::string& flag, const std::string& value,
                          double& out) {
  char* end = nullptr;
  auto x = strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !(x > 0) || x > 1e7)
    return flag + " must be a positive number of seconds, got `" + value + "`";
  out = x;
  return {};
}

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
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      return {};
    }
    if (arg == "--json") {
      out.json = true;
      continue;
    }
    if (arg == "--no-cache") {
      out.cache = false;
      continue;
    }
    if (arg == "--tls") {
      out.tls = true;
      continue;
    }
    if (arg == "--stages") {
      out.stages = true;
      continue;
    }
    if (arg == "--stream") {
      out.stream = true;
      continue;
    }
    std::string name;
    std::string value;
    if (auto bad = next_flag(argc, argv, i, name, value); !bad.empty())
      return bad;
    uint64_t u = 0;
    std::string err;
    if (name == "--connect") {
      err = split_host_port(value, out.host, out.port);
      if (!err.empty())
        err = "--connect: " + err;
      have_connect = true;
    } else if (name == "--model") {
      if (value.empty())
        err = "--model must not be empty";
      out.model = value;
    } else if (name == "--op") {
      if (!parse_op(value, out.op))
        err =
            "--op must be infer, health, models or stats, got `" + value + "`";
    } else if (name == "--connections") {
      err = parse_uint(name, value, 1, 10000, u);
      out.connections = static_cast<size_t>(u);
    } else if (name == "--depth") {
      err = parse_uint(name, value, 1, 1u << 24, u);
      out.depth = static_cast<size_t>(u);
      out.depth_set = true;
    } else if (name == "--rate") {
      char* end = nullptr;
      out.rate = strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(out.rate > 0) || out.rate > 1e8)
        err = "--rate must be a positive number of requests/s (at most 1e8), "
              "got `" +
              value + "`";
    } else if (name == "--seed") {
      err = parse_uint(name, value, 0, UINT64_MAX, u);
      out.seed = u;
    } else if (name == "--requests") {
      err = parse_uint(name, value, 1, uint64_t{1} << 40, u);
      out.requests = u;
    } else if (name == "--duration") {
      err = parse_seconds(name, value, out.duration_s);
    } else if (name == "--warmup") {
      err = parse_uint(name, value, 0, uint64_t{1} << 40, u);
      out.warmup = u;
    } else if (name == "--payload-bytes") {
      err = parse_uint(name, value, 0, 16u << 20, u);
      out.payload_bytes = static_cast<size_t>(u);
    } else if (name == "--inputs") {
      out.inputs_json = value;
    } else if (name == "--key-spread") {
      err = parse_uint(name, value, 1, 10000000, u);
      out.key_spread = static_cast<size_t>(u);
    } else if (name == "--max-tokens") {
      err = parse_uint(name, value, 1, 1000000, u);
      out.max_tokens = static_cast<uint32_t>(u);
    } else if (name == "--prompt") {
      out.prompt = value;
    } else if (name == "--deadline-ms") {
      err = parse_uint(name, value, 0, UINT32_MAX, u);
      out.deadline_ms = static_cast<uint32_t>(u);
    } else if (name == "--timeout") {
      err = parse_seconds(name, value, out.timeout_s);
    } else if (name == "--api-key") {
      out.api_key = value;
    } else if (name == "--ca") {
      out.tls = true;
      out.ca = value;
    } else if (name == "--tls-name") {
      out.tls_name = value;
    } else {
      err = "unknown flag `" + name + "`";
    }
    if (!err.empty())
      return err;
  }
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
