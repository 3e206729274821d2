#include "options.hpp"
#include "runtime/config_parse.hpp"

#include <cerrno>
#include <cstdlib>
#include <limits>

#include "runtime/client_conn.hpp"

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

namespace {

std::string parse_uint(const std::string& flag, const std::string& value,
                       uint64_t max, uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  auto x = strtoull(value.c_str(), &end, 10);
  if (value.empty() || value[0] == '-' || *end != '\0' || errno != 0 || x > max)
    return flag + " must be an integer in 0.." + std::to_string(max) +
           ", got `" + value + "`";
  out = x;
  return {};
}

} // namespace

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
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      return {};
    }
    if (arg == "--no-cache") {
      out.cache = false;
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
    if (name == "--api-key") {
      out.api_key = value;
    } else if (name == "--connect") {
      for (auto& a : split_list(value)) {
        std::string host;
        uint16_t port = 0;
        err = split_host_port(a, host, port);
        if (!err.empty()) {
          err = "--connect: " + err;
          break;
        }
        if (out.addrs.empty()) {
          out.host = host;
          out.port = port;
        }
        out.addrs.push_back(a);
      }
      if (out.addrs.empty() && err.empty())
        err = "--connect: no address";
      have_connect = true;
    } else if (name == "--op") {
      if (!parse_op(value, out.op))
        err = "--op must be infer, health, models, stats, fault or cancel, "
              "got `" +
              value + "`";
    } else if (name == "--model") {
      if (value.empty())
        err = "--model must not be empty";
      out.model = value;
    } else if (name == "--inputs") {
      try {
        out.inputs = nlohmann::json::parse(value);
      } catch (const std::exception& ex) {
        err = std::string{"--inputs is not valid JSON: "} + ex.what();
      }
    } else if (name == "--key") {
      out.key = value;
    } else if (name == "--version") {
      err = parse_uint(name, value, UINT32_MAX, u);
      out.version = static_cast<uint32_t>(u);
    } else if (name == "--target") {
      err = parse_uint(name, value, UINT64_MAX, u);
      out.target = u;
    } else if (name == "--deadline-ms") {
      err = parse_uint(name, value, UINT32_MAX, u);
      out.deadline_ms = static_cast<uint32_t>(u);
    } else if (name == "--priority") {
      char* end = nullptr;
      errno = 0;
      auto x = strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno != 0 || x < INT32_MIN ||
          x > INT32_MAX)
        err = "--priority must be a 32-bit integer, got `" + value + "`";
      out.priority = static_cast<int32_t>(x);
    } else if (name == "--timeout") {
      char* end = nullptr;
      auto x = strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(x > 0) || x > 1e6)
        err = "--timeout must be a positive number of seconds, got `" + value +
              "`";
      out.timeout_s = x;
    } else if (name == "--file") {
      if (value.empty())
        err = "--file must not be empty";
      out.file = value;
    } else if (name == "--pipeline") {
      err = parse_uint(name, value, 65536, u);
      if (err.empty() && u == 0)
        err = "--pipeline must be at least 1";
      out.pipeline = static_cast<size_t>(u);
    } else {
      err = "unknown flag `" + name + "`";
    }
    if (!err.empty())
      return err;
  }
  if (!have_connect)
    return "missing --connect=HOST:PORT";
  if (out.addrs.size() > 1 && out.stream)
    return "--stream talks to one coordinator: a stream is never resent";
  if (out.file.empty() && out.op == op_code::infer && out.model.empty())
    return "--model is required for --op=infer";
  return {};
}

} // namespace dine::client
