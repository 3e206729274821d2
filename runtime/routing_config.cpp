#include "runtime/routing_config.hpp"

#include "runtime/config_parse.hpp"

#include "messages/errc.hpp"
#include "runtime/balancer.hpp"

namespace dine {

namespace {

template <class T>
bool parse_num(const std::string& s, T& out, uint64_t lo, uint64_t hi) {
  return parse_uint(s, out, lo, hi);
}

std::vector<std::string> split(const std::string& s) {
  return split_list(s);
}

bool parse_endpoint(const std::string& s,
                    std::pair<std::string, uint16_t>& out) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return false;
  out.first = s.substr(0, colon);
  return parse_num(s.substr(colon + 1), out.second, 1, 65535);
}

bool is_strategy(const std::string& name) {
  for (auto& x : balancer_names())
    if (x == name)
      return true;
  return false;
}

std::string strategies() {
  std::string out;
  for (auto& x : balancer_names())
    out += (out.empty() ? "" : ", ") + x;
  return out;
}

using opt = std::optional<std::string>;

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out;
}

std::string ms(outlier_config::duration d) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

constexpr const char* schema_names[] = {"any", "map",   "array", "str",
                                        "int", "float", "bool",  "bin"};

} // namespace

const config_table<routing_config>& routing_options() {
  using std::chrono::milliseconds;
  static const config_table<routing_config> table = {
      {"balance",
       "default balancing strategy of every model (see docs/routing.md)",
       "one of round_robin, least_connections, random, least_latency, "
       "power_of_two_choices, weighted, consistent_hash, modulo_hash",
       [](routing_config& r, const std::string& v) {
         r.balance = v;
         return is_strategy(v);
       },
       [](const routing_config& r) -> opt { return r.balance; }},
      {"missed-heartbeats",
       "heartbeats a remote worker may miss before removal (0 = never)",
       "an integer 0-1000",
       [](routing_config& r, const std::string& v) {
         return parse_num(v, r.missed_heartbeats, 0, 1000);
       },
       [](const routing_config& r) -> opt {
         return std::to_string(r.missed_heartbeats);
       }},
      {"outlier-failures", "consecutive failed batches that eject a worker",
       "an integer 1-1000",
       [](routing_config& r, const std::string& v) {
         return parse_num(v, r.outlier.consecutive_failures, 1, 1000);
       },
       [](const routing_config& r) -> opt {
         return std::to_string(r.outlier.consecutive_failures);
       }},
      {"outlier-ejection-ms", "first ejection; doubles per repeat",
       "milliseconds 1-3600000",
       [](routing_config& r, const std::string& v) {
         milliseconds x;
         if (!parse_ms(v, x, 1, 3600000))
           return false;
         r.outlier.base_ejection_time = x;
         return true;
       },
       [](const routing_config& r) -> opt {
         return ms(r.outlier.base_ejection_time);
       }},
      {"outlier-max-ejection-ms", "cap of an ejection",
       "milliseconds 1-3600000",
       [](routing_config& r, const std::string& v) {
         milliseconds x;
         if (!parse_ms(v, x, 1, 3600000))
           return false;
         r.outlier.max_ejection_time = x;
         return true;
       },
       [](const routing_config& r) -> opt {
         return ms(r.outlier.max_ejection_time);
       }},
      {"outlier-max-percent", "most workers of a pool ejected at once (%)",
       "an integer 0-100",
       [](routing_config& r, const std::string& v) {
         return parse_num(v, r.outlier.max_ejection_percent, 0, 100);
       },
       [](const routing_config& r) -> opt {
         return std::to_string(r.outlier.max_ejection_percent);
       }},
      {"outlier-decay-ms",
       "service time that forgives one past ejection (0 = never)",
       "milliseconds 0-86400000",
       [](routing_config& r, const std::string& v) {
         milliseconds x;
         if (!parse_ms(v, x, 0, 86400000))
           return false;
         r.outlier.decay_interval = x;
         return true;
       },
       [](const routing_config& r) -> opt {
         return ms(r.outlier.decay_interval);
       }},
      {"shards", "worker: shard indices it serves, e.g. 0,1 (default all)",
       "a comma-separated list of integers 0-65535",
       [](routing_config& r, const std::string& v) {
         r.served_shards.clear();
         for (auto& x : split(v)) {
           uint32_t n = 0;
           if (!parse_num(x, n, 0, 65535))
             return false;
           r.served_shards.push_back(n);
         }
         return true;
       },
       [](const routing_config& r) -> opt {
         if (r.served_shards.empty())
           return std::nullopt;
         std::vector<std::string> xs;
         for (auto s : r.served_shards)
           xs.push_back(std::to_string(s));
         return join(xs);
       }},
      {"worker",
       "coordinator: HOST:PORT of a static worker (repeatable, appends)",
       "HOST:PORT",
       [](routing_config& r, const std::string& v) {
         std::pair<std::string, uint16_t> ep;
         if (!parse_endpoint(v, ep))
           return false;
         r.static_workers.push_back(std::move(ep));
         return true;
       },
       nullptr}, // `--check` prints the list as `workers`
      {"workers", "coordinator: static workers, HOST:PORT,HOST:PORT,...",
       "a comma-separated list of HOST:PORT",
       [](routing_config& r, const std::string& v) {
         r.static_workers.clear();
         for (auto& x : split(v)) {
           std::pair<std::string, uint16_t> ep;
           if (!parse_endpoint(x, ep))
             return false;
           r.static_workers.push_back(std::move(ep));
         }
         return true;
       },
       [](const routing_config& r) -> opt {
         if (r.static_workers.empty())
           return std::nullopt;
         std::vector<std::string> xs;
         for (auto& [host, port] : r.static_workers)
           xs.push_back(host + ":" + std::to_string(port));
         return join(xs);
       }},
  };
  return table;
}

const config_table<model_routing>& model_routing_options() {
  static const config_table<model_routing> table = {
      {"shards", "shard count (one batcher per shard)", "an integer 1-1024",
       [](model_routing& r, const std::string& v) {
         return parse_num(v, r.shards, 1, 1024);
       },
       [](const model_routing& r) -> opt { return std::to_string(r.shards); }},
      {"shard-mode", "key -> shard: ring (consistent hash) | modulo",
       "ring or modulo",
       [](model_routing& r, const std::string& v) {
         auto x = parse_shard_mode(v);
         if (!x)
           return false;
         r.mode = *x;
         return true;
       },
       [](const model_routing& r) -> opt { return to_string(r.mode); }},
      {"balance", "balancing strategy (default: node key `balance`)",
       "a balancing strategy name",
       [](model_routing& r, const std::string& v) {
         r.balance = v;
         return is_strategy(v);
       },
       [](const model_routing& r) -> opt {
         if (r.balance.empty())
           return std::nullopt;
         return r.balance;
       }},
      {"fallback", "all workers of a shard gone: any (other shard) | none",
       "any or none",
       [](model_routing& r, const std::string& v) {
         if (v != "any" && v != "none")
           return false;
         r.fallback = v == "any" ? fallback_mode::any : fallback_mode::none;
         return true;
       },
       [](const model_routing& r) -> opt { return to_string(r.fallback); }},
      {"schema",
       "required type of inputs: any|map|array|str|int|float|bool|bin",
       "one of any, map, array, str, int, float, bool, bin",
       [](model_routing& r, const std::string& v) {
         return from_string(v, r.schema);
       },
       [](const model_routing& r) -> opt { return to_string(r.schema); }},
      {"schema-keys", "keys an inputs map must have (comma-separated)",
       "a comma-separated list of key names",
       [](model_routing& r, const std::string& v) {
         r.schema_keys = split(v);
         return true;
       },
       [](const model_routing& r) -> opt {
         if (r.schema_keys.empty())
           return std::nullopt;
         return join(r.schema_keys);
       }},
      {"quantized", "informational flag shown by --op=models", "true or false",
       [](model_routing& r, const std::string& v) {
         return parse_bool(v, r.quantized);
       },
       [](const model_routing& r) -> opt {
         return r.quantized ? "true" : "false";
       }},
      {"timeout-ms", "deadline of requests that set none (0 = node default)",
       "milliseconds 0-3600000",
       [](model_routing& r, const std::string& v) {
         return parse_ms(v, r.timeout, 0, 3600000);
       },
       [](const model_routing& r) -> opt {
         return std::to_string(r.timeout.count());
       }},
  };
  return table;
}

const char* to_string(fallback_mode x) {
  return x == fallback_mode::none ? "none" : "any";
}

const char* to_string(schema_type x) {
  auto i = static_cast<size_t>(x);
  return i < 8 ? schema_names[i] : "any";
}

bool from_string(const std::string& name, schema_type& out) {
  for (size_t i = 0; i < 8; ++i)
    if (name == schema_names[i]) {
      out = static_cast<schema_type>(i);
      return true;
    }
  return false;
}

caf::error validate_routing(const routing_config& r) {
  return check(r.outlier);
}

caf::error validate_model_routing(const std::string& name,
                                  const model_routing& r) {
  if (!r.schema_keys.empty() && r.schema != schema_type::any &&
      r.schema != schema_type::map)
    return make_error(errc::invalid_config,
                      "`model." + name +
                          ".schema-keys` needs schema `map`"
                          " (or `any`), not `" +
                          to_string(r.schema) + "`");
  if (!r.balance.empty() && !is_strategy(r.balance))
    return make_error(errc::invalid_config,
                      "`model." + name + ".balance`: unknown strategy `" +
                          r.balance + "` (valid: " + strategies() + ")");
  return caf::none;
}

} // namespace dine
