#include "options.hpp"

#include <cstdlib>

#include "messages/errc.hpp"
#include "runtime/cli_parser.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/config_parse.hpp"

namespace dine::client {

const char* usage = R"(usage: dine-client --connect=HOST:PORT [options]

Sends requests to a dine node over the client protocol and prints each
reply as one JSON line.

  --connect=HOST:PORT  node to talk to (required); several (comma-separated
                       or repeated): coordinators of one etcd cluster — the
                       client fails over between them and resends what was
                       in flight (docs/protocol.md, "Several coordinators")
  --op=OP              infer (default), health, models, stats, fault or
                       cancel
  --model=NAME         model for op=infer (default for --file lines)
  --inputs=JSON        inputs as JSON, sent as msgpack (default: none)
  --key=KEY            sharding/cache key
  --version=N          model version (default: newest)
  --deadline-ms=N      request deadline in milliseconds
  --priority=N         request priority (signed)
  --no-cache           bypass the result cache
  --stream             stream a generation: print each chunk's text as it
                       arrives, then the final frame as one JSON line
  --target=N           the request id that --op=cancel ends
  --timeout=SECONDS    how long to wait for each reply (default 10)
  --api-key=KEY        send a hello frame with KEY after connecting
                       (default: $DINE_API_KEY; docs/protocol.md)
  --tls                speak TLS to a node with client-tls (docs/security.md,
                       "Client port TLS"), verifying its certificate
  --ca=FILE            the CA (PEM) the node's certificate must chain to,
                       e.g. the cluster's ca.pem (implies --tls; default:
                       the system's CA store)
  --tls-name=NAME      also require NAME in the node certificate's DNS
                       names (or CN), e.g. the NODE of tools/mkcerts.sh
  --file=PATH          send one request per line of PATH: a JSON object
                       with optional fields op, model, inputs, key, version,
                       cache, deadline_ms, priority (missing fields take the
                       flags' values); the reply's id is the line's number
                       among the requests (1-based); `-` reads stdin
  --pipeline=N         requests in flight with --file (default 16)
  --help               print this text

Exit code: 0 if every reply is ok, 1 if any reply is an error, 2 for usage,
connection or timeout errors. With --file, a summary line goes to stderr.
)";

bool parse_op(const std::string& name, op_code& out) {
  for (auto op : {op_code::infer, op_code::health, op_code::models,
                  op_code::stats, op_code::fault, op_code::cancel})
    if (name == to_string(op)) {
      out = op;
      return true;
    }
  return false;
}

std::string parse_options(int argc, char** argv, options& out) {
  bool have_connect = false;
  if (auto env = std::getenv("DINE_API_KEY"))
    out.api_key = env;
  auto number = [](const char* flag, uint64_t max, auto& field) {
    return [=, &field](const std::string& v) {
      return cli_uint(flag, v, 0, max, field);
    };
  };
  std::vector<cli_flag> flags{
      {"--no-cache", false,
       [&](const std::string&) {
         out.cache = false;
         return std::string{};
       }},
      {"--stream", false,
       [&](const std::string&) {
         out.stream = true;
         return std::string{};
       }},
      {"--connect", true,
       [&](const std::string& v) {
         // Several (comma-separated or repeated): fail over between them.
         have_connect = true;
         for (auto& a : split_list(v)) {
           std::string host;
           uint16_t port = 0;
           auto err = split_host_port(a, host, port);
           if (!err.empty())
             return "--connect: " + err;
           if (out.addrs.empty()) {
             out.host = host;
             out.port = port;
           }
           out.addrs.push_back(a);
         }
         return out.addrs.empty() ? std::string{"--connect: no address"}
                                  : std::string{};
       }},
      {"--op", true,
       [&](const std::string& v) {
         return parse_op(v, out.op)
                    ? std::string{}
                    : "--op must be infer, health, models, stats, fault or "
                      "cancel, got `" +
                          v + "`";
       }},
      {"--model", true,
       [&](const std::string& v) {
         return cli_nonempty("--model", v, out.model);
       }},
      {"--inputs", true,
       [&](const std::string& v) {
         try {
           out.inputs = nlohmann::json::parse(v);
           return std::string{};
         } catch (const std::exception& ex) {
           return std::string{"--inputs is not valid JSON: "} + ex.what();
         }
       }},
      {"--key", true, cli_text(out.key)},
      {"--version", true, number("--version", UINT32_MAX, out.version)},
      {"--target", true, number("--target", UINT64_MAX, out.target)},
      {"--deadline-ms", true,
       number("--deadline-ms", UINT32_MAX, out.deadline_ms)},
      {"--priority", true,
       [&](const std::string& v) {
         return cli_int32("--priority", v, out.priority);
       }},
      {"--timeout", true,
       [&](const std::string& v) {
         return cli_seconds("--timeout", v, 1e6, out.timeout_s);
       }},
      {"--file", true,
       [&](const std::string& v) {
         return cli_nonempty("--file", v, out.file);
       }},
      {"--pipeline", true,
       [&](const std::string& v) {
         auto err = cli_uint("--pipeline", v, 0, 65536, out.pipeline);
         if (err.empty() && out.pipeline == 0)
           err = "--pipeline must be at least 1";
         return err;
       }},
  };
  add_client_port_flags(flags, out.api_key, out.tls, out.ca, out.tls_name);
  if (auto err = parse_cli(argc, argv, flags, out.help);
      !err.empty() || out.help)
    return err;
  if (!have_connect)
    return "missing --connect=HOST:PORT";
  if (out.addrs.size() > 1 && out.stream)
    return "--stream talks to one coordinator: a stream is never resent";
  if (!out.tls && !out.tls_name.empty())
    return "--tls-name needs --tls or --ca";
  if (out.tls) {
    auto ctx = tls_context::client(out.ca, out.tls_name);
    if (!ctx)
      return classify(ctx.error()).second;
    out.tls_ctx = std::move(*ctx);
  }
  if (out.file.empty() && out.op == op_code::infer && out.model.empty())
    return "--model is required for --op=infer";
  return {};
}

} // namespace dine::client
