#include "runtime/node_config.hpp"

#include "runtime/config_parse.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "messages/errc.hpp"
#include "runtime/generative_config.hpp"

namespace dine {

namespace {

using setter = std::function<bool(node_config&, const std::string&)>;

struct option {
  const char* key;
  const char* help;
  const char* expects; ///< Named in errors: "a port (0-65535)".
  setter set;
};

setter ms_setter(std::chrono::milliseconds node_config::*m, uint64_t lo,
                 uint64_t hi) {
  return [=](node_config& c, const std::string& v) {
    uint64_t x;
    if (!parse_uint(v, x, lo, hi))
      return false;
    c.*m = std::chrono::milliseconds{x};
    return true;
  };
}

template <class T>
setter uint_setter(T node_config::*m, uint64_t lo, uint64_t hi) {
  return [=](node_config& c, const std::string& v) {
    return parse_uint(v, c.*m, lo, hi);
  };
}

const std::vector<option>& options() {
  static const std::vector<option> table = {
      {"role",
       "coordinator | worker | cache | all (comma-separated list allowed)",
       "one of coordinator, worker, cache, all",
       [](node_config& c, const std::string& v) {
         auto roles = split_list(v);
         if (roles.empty())
           return false;
         c.coordinator = c.worker = c.cache_role = false;
         for (auto& r : roles) {
           if (r == "all")
             c.coordinator = c.worker = true;
           else if (r == "cache")
             c.cache_role = true;
           else if (r == "coordinator")
             c.coordinator = true;
           else if (r == "worker")
             c.worker = true;
           else
             return false;
         }
         return true;
       }},
      {"listen", "HOST:PORT of the cluster endpoint workers join (0 = any)",
       "HOST:PORT",
       [](node_config& c, const std::string& v) {
         c.routing.listen_given = true;
         return parse_endpoint(v, c.listen_host, c.listen_port);
       }},
      {"client-host", "address the client port binds", "a host name",
       [](node_config& c, const std::string& v) {
         c.client_host = v;
         return !v.empty();
       }},
      {"client-port", "client protocol port (0 = any free port)",
       "a port (0-65535)", uint_setter(&node_config::client_port, 0, 65535)},
      {"http-host", "address the HTTP port binds", "a host name",
       [](node_config& c, const std::string& v) {
         c.http.host = v;
         return !v.empty();
       }},
      {"http-port", "HTTP front door port (0 = any free port; unset = off)",
       "a port (0-65535)",
       [](node_config& c, const std::string& v) {
         c.http.enabled = true;
         return parse_uint(v, c.http.port, 0, 65535);
       }},
      {"http-max-connections", "HTTP connections served at once",
       "an integer 1-1000000",
       [](node_config& c, const std::string& v) {
         return parse_uint(v, c.http.max_connections, 1, 1000000);
       }},
      {"http-max-body-bytes", "largest HTTP request body (413 above)",
       "an integer 64-1073741824",
       [](node_config& c, const std::string& v) {
         return parse_uint(v, c.http.max_body_bytes, 64, 1u << 30);
       }},
      {"http-max-header-bytes", "largest HTTP request header (431 above)",
       "an integer 256-1048576",
       [](node_config& c, const std::string& v) {
         return parse_uint(v, c.http.max_header_bytes, 256, 1u << 20);
       }},
      {"http-idle-timeout-ms",
       "longest time to read one HTTP request or wait for the next",
       "milliseconds 10-3600000",
       [](node_config& c, const std::string& v) {
         uint64_t x;
         if (!parse_uint(v, x, 10, 3600000))
           return false;
         c.http.idle_timeout = std::chrono::milliseconds{x};
         return true;
       }},
      {"http-job-ttl-ms", "how long an async job's result is kept",
       "milliseconds 1-86400000",
       [](node_config& c, const std::string& v) {
         uint64_t x;
         if (!parse_uint(v, x, 1, 86400000))
           return false;
         c.http.job_ttl = std::chrono::milliseconds{x};
         return true;
       }},
      {"http-max-jobs", "async jobs held at once (429 above)",
       "an integer 1-10000000",
       [](node_config& c, const std::string& v) {
         return parse_uint(v, c.http.max_jobs, 1, 10000000);
       }},
      {"http-ready-models",
       "models /health/ready needs a healthy worker for (comma-separated)",
       "a comma-separated list of model names",
       [](node_config& c, const std::string& v) {
         c.http.ready_models = split_list(v);
         return !c.http.ready_models.empty();
       }},
      {"join", "HOST:PORT of the coordinator a worker joins", "HOST:PORT",
       [](node_config& c, const std::string& v) {
         return parse_endpoint(v, c.join_host, c.join_port) && c.join_port != 0;
       }},
      {"models", "models a worker serves (comma-separated)",
       "a comma-separated list of model names",
       [](node_config& c, const std::string& v) {
         c.models = split_list(v);
         return !c.models.empty();
       }},
      {"name", "worker name (default HOST:PID)", "a non-empty name",
       [](node_config& c, const std::string& v) {
         c.name = v;
         return !v.empty();
       }},
      {"local-workers", "workers inside a --role=all node", "an integer 1-64",
       uint_setter(&node_config::local_workers, 1, 64)},
      {"capacity", "batches in flight per worker", "an integer 1-1024",
       uint_setter(&node_config::capacity, 1, 1024)},
      {"max-frame-bytes", "largest accepted client frame body",
       "an integer 64-1073741824",
       uint_setter(&node_config::max_frame, 64, 1u << 30)},
      {"max-node-frame",
       "largest inter-node (BASP) payload read; a larger header drops the "
       "connection",
       "an integer 65536-1073741824",
       uint_setter(&node_config::max_node_frame, 65536, 1u << 30)},
      {"max-inflight-per-connection",
       "requests in flight per client connection before reading pauses",
       "an integer 1-1000000",
       uint_setter(&node_config::max_inflight_per_connection, 1, 1000000)},
      {"max-connections",
       "client connections in total; more are refused (0 = no limit)",
       "an integer 0-1000000",
       uint_setter(&node_config::max_connections, 0, 1000000)},
      {"max-connections-per-address",
       "client connections from one address (0 = no limit)",
       "an integer 0-1000000",
       uint_setter(&node_config::max_connections_per_address, 0, 1000000)},
      {"memory-budget-bytes",
       "buffered client request+reply bytes in total; past it the largest "
       "connections are closed (0 = no budget)",
       "an integer 0 or 1048576-1099511627776",
       [](node_config& c, const std::string& v) {
         return parse_uint(v, c.memory_budget, 0, 1ull << 40) &&
                (c.memory_budget == 0 || c.memory_budget >= (1u << 20));
       }},
      {"api-keys-file",
       "file of `admin KEY` / `user KEY` lines; clients must send a hello "
       "with a key",
       "a file name",
       [](node_config& c, const std::string& v) {
         c.api_keys_file = v;
         return !v.empty();
       }},
      {"max-retries", "re-dispatches of a batch whose worker failed",
       "an integer 0-100", uint_setter(&node_config::max_retries, 0, 100)},
      {"request-timeout-ms", "deadline of requests that set none",
       "milliseconds 1-3600000",
       ms_setter(&node_config::request_timeout, 1, 3600000)},
      {"heartbeat-interval-ms", "middleman heartbeat interval",
       "milliseconds 10-60000",
       ms_setter(&node_config::heartbeat_interval, 10, 60000)},
      {"connection-timeout-ms",
       "a peer silent this long is considered lost (> heartbeat interval)",
       "milliseconds 50-600000",
       ms_setter(&node_config::connection_timeout, 50, 600000)},
      {"reconnect-max-ms", "cap of a worker's reconnect backoff",
       "milliseconds 10-600000",
       ms_setter(&node_config::reconnect_max, 10, 600000)},
      {"drain-timeout-ms",
       "on SIGTERM: longest wait for in-flight work before exiting",
       "milliseconds 0-3600000",
       ms_setter(&node_config::drain_timeout, 0, 3600000)},
      {"scheduler-policy", "CAF scheduler: sharing | stealing",
       "sharing or stealing",
       [](node_config& c, const std::string& v) {
         c.scheduler_policy = v;
         return v == "sharing" || v == "stealing";
       }},
      {"threads", "CAF scheduler threads", "an integer 1-256",
       uint_setter(&node_config::threads, 1, 256)},
      {"enable-fault-injection",
       "accept the `fault` op (fault hooks at run time; off by default)",
       "true or false",
       [](node_config& c, const std::string& v) {
         return parse_bool(v, c.fault_injection);
       }},
      {"ready-file", "written (JSON with the bound ports) once serving",
       "a path",
       [](node_config& c, const std::string& v) {
         c.ready_file = v;
         return !v.empty();
       }},
  };
  return table;
}

struct model_option {
  const char* key;
  const char* help;
  const char* expects;
  std::function<bool(model_config&, const std::string&)> set;
};

const std::vector<model_option>& model_options() {
  static const std::vector<model_option> table = {
      {"backend", "echo | cost | sleep | tokens | transformer",
       "one of echo, cost, sleep, tokens, transformer",
       [](model_config& m, const std::string& v) {
         m.backend = v;
         return v == "echo" || v == "cost" || v == "sleep" || v == "tokens" ||
                v == "transformer";
       }},
      {"version", "model version", "an integer 1-4294967295",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.version, 1, UINT32_MAX);
       }},
      {"max-batch-size", "largest batch", "an integer 1-4096",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.max_batch_size, 1, 4096);
       }},
      {"max-delay-us", "longest wait of a request for a fuller batch",
       "microseconds 0-10000000",
       [](model_config& m, const std::string& v) {
         uint64_t x;
         if (!parse_uint(v, x, 0, 10000000))
           return false;
         m.max_delay = std::chrono::microseconds{x};
         return true;
       }},
      {"preferred-batch-sizes",
       "batch sizes formed without waiting (comma-separated)",
       "a comma-separated list of integers 1-4096",
       [](model_config& m, const std::string& v) {
         m.preferred_sizes.clear();
         for (auto& x : split_list(v)) {
           uint32_t n;
           if (!parse_uint(x, n, 1, 4096))
             return false;
           m.preferred_sizes.push_back(n);
         }
         return true;
       }},
      {"max-queue", "queued requests before `overloaded`",
       "an integer 1-100000000",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.max_queue, 1, 100000000);
       }},
      {"batchable", "false runs one request per invocation", "true or false",
       [](model_config& m, const std::string& v) {
         if (v != "true" && v != "false")
           return false;
         m.batchable = v == "true";
         return true;
       }},
      {"fault", "fault hook at start: off|crash|crash_on_start|hang|error|slow",
       "one of off, crash, crash_on_start, hang, error, slow",
       [](model_config& m, const std::string& v) {
         return from_string(v, m.fault.kind);
       }},
      {"fault-rate", "probability per batch that the fault fires",
       "a number from 0 to 1",
       [](model_config& m, const std::string& v) {
         char* end = nullptr;
         auto x = std::strtod(v.c_str(), &end);
         if (v.empty() || end != v.c_str() + v.size() || !(x >= 0 && x <= 1))
           return false;
         m.fault.rate = x;
         return true;
       }},
      {"fault-count", "batches the fault affects at most (0 = unlimited)",
       "an integer 0-4294967295",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.fault.count, 0, UINT32_MAX);
       }},
      {"fault-slow-ms", "delay the `slow` fault adds", "milliseconds 0-600000",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.fault.slow_ms, 0, max_fault_slow_ms);
       }},
      {"cache-ttl-ms", "TTL of this model's cached results (0 = node default)",
       "milliseconds 0-4294967295",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.cache_ttl_ms, 0, UINT32_MAX);
       }},
      {"fixed-us", "cost/sleep: microseconds per invocation",
       "microseconds 0-10000000",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.fixed_us, 0, 10000000);
       }},
      {"per-item-us", "cost/sleep: microseconds per item",
       "microseconds 0-10000000",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.per_item_us, 0, 10000000);
       }},
  };
  return table;
}

caf::error bad_value(const std::string& key, const std::string& value,
                     const char* expects, const std::string& origin) {
  return make_error(errc::invalid_config,
                    origin + ": `" + key + "` = `" + value +
                        "` is invalid: expected " + expects);
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

} // namespace

std::map<std::string, model_config> builtin_models() {
  std::map<std::string, model_config> result;
  for (const char* name : {"echo", "cost", "sleep", "tokens"}) {
    model_config m;
    m.name = name;
    m.backend = name;
    result.emplace(name, m);
  }
  // A generative model runs one request per batch: its session batches
  // the running sequences step by step (docs/design.md).
  result["tokens"].batchable = false;
  return result;
}

caf::error apply_option(node_config& cfg, const std::string& key,
                        const std::string& value, const std::string& origin) {
  if (key.rfind("model.", 0) == 0) {
    auto dot = key.find('.', 6);
    if (dot == std::string::npos || dot == 6 || dot + 1 == key.size())
      return make_error(errc::invalid_config,
                        origin + ": `" + key +
                            "`: per-model keys read model.NAME.KEY");
    auto name = key.substr(6, dot - 6);
    auto sub = key.substr(dot + 1);
    for (auto& opt : model_options()) {
      if (sub != opt.key)
        continue;
      auto i = cfg.model_table.find(name);
      if (i == cfg.model_table.end()) {
        model_config m;
        m.name = name;
        i = cfg.model_table.emplace(name, m).first;
      }
      if (!opt.set(i->second, value))
        return bad_value(key, value, opt.expects, origin);
      return caf::none;
    }
    if (is_generative_model_key(sub)) {
      auto& m = cfg.model_table[name];
      m.name = name;
      return apply_generative_model_option(m, sub, key, value, origin);
    }
    if (is_model_routing_key(sub)) {
      auto& m = cfg.model_table[name];
      m.name = name;
      return apply_model_routing_option(m, sub, key, value, origin);
    }
    return make_error(errc::invalid_config, origin +
                                                ": unknown per-model key `" +
                                                sub + "` in `" + key + "`");
  }
  for (auto& opt : options()) {
    if (key != opt.key)
      continue;
    if (!opt.set(cfg, value))
      return bad_value(key, value, opt.expects, origin);
    return caf::none;
  }
  if (is_cache_key(key))
    return apply_cache_option(cfg, key, value, origin);
  if (is_generative_node_key(key))
    return apply_generative_node_option(cfg, key, value, origin);
  if (is_routing_key(key))
    return apply_routing_option(cfg, key, value, origin);
  return make_error(errc::invalid_config,
                    origin + ": unknown key `" + key + "` (see --help)");
}

caf::error apply_config_text(node_config& cfg, const std::string& text,
                             const std::string& origin) {
  std::istringstream in{text};
  std::string line;
  std::string section;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    auto where = origin + ":" + std::to_string(lineno);
    auto s = trim(line);
    if (s.empty() || s[0] == '#' || s[0] == ';')
      continue;
    if (s.front() == '[') {
      if (s.back() != ']')
        return make_error(errc::invalid_config,
                          where + ": unterminated section header");
      section = trim(s.substr(1, s.size() - 2));
      if (!section.empty() && section != "node" &&
          section.rfind("model.", 0) != 0)
        return make_error(errc::invalid_config,
                          where + ": unknown section [" + section +
                              "] (use [node] or [model.NAME])");
      continue;
    }
    auto eq = s.find('=');
    if (eq == std::string::npos)
      return make_error(errc::invalid_config,
                        where + ": expected `key = value`");
    auto key = trim(s.substr(0, eq));
    auto value = trim(s.substr(eq + 1));
    auto quoted = !value.empty() && value.front() == '"';
    auto closed = value.size() >= 2 && value.back() == '"';
    if (quoted != closed)
      return make_error(errc::invalid_config,
                        where + ": `" + key + "`: " +
                            (quoted ? "unterminated quote" : "stray quote") +
                            " in value " + value);
    if (quoted)
      value = value.substr(1, value.size() - 2);
    if (section.rfind("model.", 0) == 0)
      key = section + "." + key;
    if (auto err = apply_option(cfg, key, value, where))
      return err;
  }
  return caf::none;
}

caf::error validate(const node_config& cfg) {
  if (!cfg.coordinator && cfg.worker && cfg.join_host.empty() &&
      !cfg.routing.listen_given)
    return make_error(errc::invalid_config,
                      "a worker-only node needs `join` (--join=HOST:PORT), "
                      "or `listen` to be a static worker");
  if (cfg.connection_timeout <= cfg.heartbeat_interval)
    return make_error(errc::invalid_config,
                      "`connection-timeout-ms` must exceed "
                      "`heartbeat-interval-ms`");
  if (cfg.worker)
    for (auto& m : cfg.models)
      if (cfg.model_table.count(m) == 0)
        return make_error(errc::invalid_config,
                          "`models`: unknown model `" + m +
                              "` (built in: echo, cost, sleep; define "
                              "others in [model.NAME])");
  if (auto err = validate_generative(cfg))
    return err;
  return validate_routing(cfg);
}

caf::expected<node_config> load_config(const std::vector<std::string>& args) {
  node_config cfg;
  cfg.model_table = builtin_models();
  std::vector<std::pair<std::string, std::string>> flags;
  for (auto& arg : args) {
    if (arg == "--help" || arg == "-h") {
      cfg.help = true;
      return cfg;
    }
    if (arg == "--check") {
      cfg.check = true;
      continue;
    }
    if (arg == "--enable-fault-injection") { // a bare flag means true
      flags.emplace_back("enable-fault-injection", "true");
      continue;
    }
    if (arg.rfind("--", 0) != 0)
      return make_error(errc::invalid_config,
                        "unexpected argument `" + arg +
                            "` (options read --key=value)");
    auto eq = arg.find('=');
    if (eq == std::string::npos)
      return make_error(errc::invalid_config,
                        "option `" + arg + "` needs a value (--key=value)");
    flags.emplace_back(arg.substr(2, eq - 2), arg.substr(eq + 1));
  }
  for (auto& [key, value] : flags) {
    if (key != "config")
      continue;
    std::ifstream in{value};
    if (!in)
      return make_error(errc::invalid_config,
                        "cannot read config file `" + value + "`");
    std::stringstream ss;
    ss << in.rdbuf();
    if (auto err = apply_config_text(cfg, ss.str(), value))
      return err;
  }
  for (auto& [key, value] : flags)
    if (key != "config")
      if (auto err = apply_option(cfg, key, value, "command line"))
        return err;
  // `--models` after `--checkpoint` must not drop the model it defined.
  for (auto& [key, value] : flags)
    if (is_generative_node_key(key) &&
        std::find(cfg.models.begin(), cfg.models.end(), "transformer") ==
            cfg.models.end())
      cfg.models.emplace_back("transformer");
  if (auto err = validate(cfg))
    return err;
  return cfg;
}

std::string to_config_text(const node_config& cfg) {
  std::string roles;
  auto role = [&](const char* r) {
    roles += (roles.empty() ? "" : ",") + std::string{r};
  };
  if (cfg.coordinator && cfg.worker)
    role("all");
  else if (cfg.coordinator)
    role("coordinator");
  else if (cfg.worker)
    role("worker");
  if (cfg.cache_role)
    role("cache");
  std::string out = "[node]\nrole = " + roles;
  auto kv = [&](const char* k, const std::string& v) { append_kv(out, k, v); };
  kv("listen", cfg.listen_host + ":" + std::to_string(cfg.listen_port));
  kv("client-host", cfg.client_host);
  kv("client-port", std::to_string(cfg.client_port));
  if (cfg.http.enabled) {
    kv("http-host", cfg.http.host);
    kv("http-port", std::to_string(cfg.http.port));
    kv("http-max-connections", std::to_string(cfg.http.max_connections));
    kv("http-max-body-bytes", std::to_string(cfg.http.max_body_bytes));
    kv("http-max-header-bytes", std::to_string(cfg.http.max_header_bytes));
    kv("http-idle-timeout-ms", std::to_string(cfg.http.idle_timeout.count()));
    kv("http-job-ttl-ms", std::to_string(cfg.http.job_ttl.count()));
    kv("http-max-jobs", std::to_string(cfg.http.max_jobs));
    std::string rm;
    for (auto& m : cfg.http.ready_models)
      rm += (rm.empty() ? "" : ",") + m;
    if (!rm.empty())
      kv("http-ready-models", rm);
  }
  if (!cfg.join_host.empty())
    kv("join", cfg.join_host + ":" + std::to_string(cfg.join_port));
  std::string models;
  for (auto& m : cfg.models)
    models += (models.empty() ? "" : ",") + m;
  kv("models", models);
  if (!cfg.name.empty())
    kv("name", cfg.name);
  kv("local-workers", std::to_string(cfg.local_workers));
  kv("capacity", std::to_string(cfg.capacity));
  kv("max-frame-bytes", std::to_string(cfg.max_frame));
  kv("max-inflight-per-connection",
     std::to_string(cfg.max_inflight_per_connection));
  kv("max-connections", std::to_string(cfg.max_connections));
  kv("max-connections-per-address",
     std::to_string(cfg.max_connections_per_address));
  kv("memory-budget-bytes", std::to_string(cfg.memory_budget));
  if (!cfg.api_keys_file.empty())
    kv("api-keys-file", cfg.api_keys_file);
  kv("max-node-frame", std::to_string(cfg.max_node_frame));
  if (cfg.fault_injection)
    kv("enable-fault-injection", "true");
  kv("max-retries", std::to_string(cfg.max_retries));
  kv("request-timeout-ms", std::to_string(cfg.request_timeout.count()));
  kv("heartbeat-interval-ms", std::to_string(cfg.heartbeat_interval.count()));
  kv("connection-timeout-ms", std::to_string(cfg.connection_timeout.count()));
  kv("reconnect-max-ms", std::to_string(cfg.reconnect_max.count()));
  kv("drain-timeout-ms", std::to_string(cfg.drain_timeout.count()));
  kv("scheduler-policy", cfg.scheduler_policy);
  kv("threads", std::to_string(cfg.threads));
  if (!cfg.ready_file.empty())
    kv("ready-file", cfg.ready_file);
  out += cache_config_text(cfg.cache);
  out += routing_node_text(cfg);
  for (auto& [name, m] : cfg.model_table) {
    out += "\n\n[model." + name + "]";
    kv("backend", m.backend);
    kv("version", std::to_string(m.version));
    kv("max-batch-size", std::to_string(m.max_batch_size));
    kv("max-delay-us", std::to_string(m.max_delay.count()));
    std::string pref;
    for (auto x : m.preferred_sizes)
      pref += (pref.empty() ? "" : ",") + std::to_string(x);
    if (!pref.empty())
      kv("preferred-batch-sizes", pref);
    kv("max-queue", std::to_string(m.max_queue));
    kv("batchable", m.batchable ? "true" : "false");
    if (m.fault.kind != fault_kind::off) {
      kv("fault", to_string(m.fault.kind));
      kv("fault-rate", std::to_string(m.fault.rate));
      kv("fault-count", std::to_string(m.fault.count));
      kv("fault-slow-ms", std::to_string(m.fault.slow_ms));
    }
    kv("fixed-us", std::to_string(m.fixed_us));
    kv("per-item-us", std::to_string(m.per_item_us));
    kv("cache-ttl-ms", std::to_string(m.cache_ttl_ms));
    out += generative_model_text(m);
    out += routing_model_text(m);
  }
  out += "\n";
  return out;
}

std::string usage() {
  std::string out = "usage: dine-node [--config=FILE] [--key=value ...] "
                    "[--check] [--help]\n\n"
                    "--check validates the configuration, prints it and "
                    "exits.\n\n"
                    "Options (also valid as `key = value` in FILE):\n";
  for (auto& opt : options()) {
    out += "  --";
    out += opt.key;
    out += std::string(30 - std::min<size_t>(29, strlen(opt.key)), ' ');
    out += opt.help;
    out += '\n';
  }
  out += routing_node_usage();
  out += generative_node_usage();
  out += "\nResponse cache keys:\n" + cache_usage();
  out += "\nPer-model keys (--model.NAME.KEY=V, or KEY = V in [model.NAME]):\n";
  for (auto& opt : model_options()) {
    out += "  ";
    out += opt.key;
    out += std::string(32 - std::min<size_t>(31, strlen(opt.key)), ' ');
    out += opt.help;
    out += '\n';
  }
  out += generative_model_usage();
  out += routing_model_usage();
  return out;
}

} // namespace dine
