#include "runtime/routing_config.hpp"

#include "runtime/config_parse.hpp"

#include <cstring>
#include <functional>

#include "messages/errc.hpp"
#include "runtime/balancer.hpp"
#include "runtime/node_config.hpp"

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

struct node_option {
  const char* key;
  const char* help;
  const char* expects;
  std::function<bool(routing_config&, const std::string&)> set;
};

const std::vector<node_option>& node_options() {
  using std::chrono::milliseconds;
  static const std::vector<node_option> table = {
      {"balance",
       "default balancing strategy of every model (see docs/routing.md)",
       "one of round_robin, least_connections, random, least_latency, "
       "power_of_two_choices, weighted, consistent_hash, modulo_hash",
       [](routing_config& r, const std::string& v) {
         r.balance = v;
         return is_strategy(v);
       }},
      {"missed-heartbeats",
       "heartbeats a remote worker may miss before removal (0 = never)",
       "an integer 0-1000",
       [](routing_config& r, const std::string& v) {
         return parse_num(v, r.missed_heartbeats, 0, 1000);
       }},
      {"outlier-failures", "consecutive failed batches that eject a worker",
       "an integer 1-1000",
       [](routing_config& r, const std::string& v) {
         return parse_num(v, r.outlier.consecutive_failures, 1, 1000);
       }},
      {"outlier-ejection-ms", "first ejection; doubles per repeat",
       "milliseconds 1-3600000",
       [](routing_config& r, const std::string& v) {
         milliseconds x;
         if (!parse_ms(v, x, 1, 3600000))
           return false;
         r.outlier.base_ejection_time = x;
         return true;
       }},
      {"outlier-max-ejection-ms", "cap of an ejection",
       "milliseconds 1-3600000",
       [](routing_config& r, const std::string& v) {
         milliseconds x;
         if (!parse_ms(v, x, 1, 3600000))
           return false;
         r.outlier.max_ejection_time = x;
         return true;
       }},
      {"outlier-max-percent", "most workers of a pool ejected at once (%)",
       "an integer 0-100",
       [](routing_config& r, const std::string& v) {
         return parse_num(v, r.outlier.max_ejection_percent, 0, 100);
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
       }},
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
      {"shards", "shard count (one batcher per shard)", "an integer 1-1024",
       [](model_config& m, const std::string& v) {
         return parse_num(v, m.routing.shards, 1, 1024);
       }},
      {"shard-mode", "key -> shard: ring (consistent hash) | modulo",
       "ring or modulo",
       [](model_config& m, const std::string& v) {
         auto x = parse_shard_mode(v);
         if (!x)
           return false;
         m.routing.mode = *x;
         return true;
       }},
      {"balance", "balancing strategy (default: node key `balance`)",
       "a balancing strategy name",
       [](model_config& m, const std::string& v) {
         m.routing.balance = v;
         return is_strategy(v);
       }},
      {"fallback", "all workers of a shard gone: any (other shard) | none",
       "any or none",
       [](model_config& m, const std::string& v) {
         if (v != "any" && v != "none")
           return false;
         m.routing.fallback =
             v == "any" ? fallback_mode::any : fallback_mode::none;
         return true;
       }},
      {"schema",
       "required type of inputs: any|map|array|str|int|float|bool|bin",
       "one of any, map, array, str, int, float, bool, bin",
       [](model_config& m, const std::string& v) {
         return from_string(v, m.routing.schema);
       }},
      {"schema-keys", "keys an inputs map must have (comma-separated)",
       "a comma-separated list of key names",
       [](model_config& m, const std::string& v) {
         m.routing.schema_keys = split(v);
         return true;
       }},
      {"quantized", "informational flag shown by --op=models", "true or false",
       [](model_config& m, const std::string& v) {
         return parse_bool(v, m.routing.quantized);
       }},
      {"cacheable", "results may be cached and coalesced", "true or false",
       [](model_config& m, const std::string& v) {
         return parse_bool(v, m.cacheable);
       }},
      {"timeout-ms", "deadline of requests that set none (0 = node default)",
       "milliseconds 0-3600000",
       [](model_config& m, const std::string& v) {
         return parse_ms(v, m.routing.timeout, 0, 3600000);
       }},
  };
  return table;
}

caf::error bad(const std::string& key, const std::string& value,
               const char* expects, const std::string& origin) {
  return make_error(errc::invalid_config,
                    origin + ": `" + key + "` = `" + value +
                        "` is invalid: expected " + expects);
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out;
}

template <class Table>
std::string usage_of(const Table& table, size_t width, const char* indent) {
  std::string out;
  for (auto& opt : table) {
    out += indent;
    out += opt.key;
    out += std::string(width - std::min(width - 1, strlen(opt.key)), ' ');
    out += opt.help;
    out += '\n';
  }
  return out;
}

constexpr const char* schema_names[] = {"any", "map",   "array", "str",
                                        "int", "float", "bool",  "bin"};

} // namespace

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

bool is_routing_key(const std::string& key) {
  for (auto& opt : node_options())
    if (key == opt.key)
      return true;
  return false;
}

caf::error apply_routing_option(node_config& cfg, const std::string& key,
                                const std::string& value,
                                const std::string& origin) {
  for (auto& opt : node_options())
    if (key == opt.key) {
      if (!opt.set(cfg.routing, value))
        return bad(key, value, opt.expects, origin);
      return caf::none;
    }
  return make_error(errc::invalid_config,
                    origin + ": unknown key `" + key + "`");
}

bool is_model_routing_key(const std::string& sub) {
  for (auto& opt : model_options())
    if (sub == opt.key)
      return true;
  return false;
}

caf::error apply_model_routing_option(model_config& m, const std::string& sub,
                                      const std::string& key,
                                      const std::string& value,
                                      const std::string& origin) {
  for (auto& opt : model_options())
    if (sub == opt.key) {
      if (!opt.set(m, value))
        return bad(key, value, opt.expects, origin);
      return caf::none;
    }
  return make_error(errc::invalid_config,
                    origin + ": unknown per-model key `" + sub + "`");
}

caf::error validate_routing(const node_config& cfg) {
  if (auto err = check(cfg.routing.outlier))
    return err;
  for (auto& [name, m] : cfg.model_table) {
    auto& r = m.routing;
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
  }
  return caf::none;
}

std::string routing_node_text(const node_config& cfg) {
  auto& r = cfg.routing;
  std::string out;
  append_kv(out, "balance", r.balance);
  append_kv(out, "missed-heartbeats", std::to_string(r.missed_heartbeats));
  auto ms = [](outlier_config::duration d) {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  append_kv(out, "outlier-failures",
            std::to_string(r.outlier.consecutive_failures));
  append_kv(out, "outlier-ejection-ms", ms(r.outlier.base_ejection_time));
  append_kv(out, "outlier-max-ejection-ms", ms(r.outlier.max_ejection_time));
  append_kv(out, "outlier-max-percent",
            std::to_string(r.outlier.max_ejection_percent));
  append_kv(out, "outlier-decay-ms", ms(r.outlier.decay_interval));
  if (!r.served_shards.empty()) {
    std::vector<std::string> xs;
    for (auto s : r.served_shards)
      xs.push_back(std::to_string(s));
    append_kv(out, "shards", join(xs));
  }
  if (!r.static_workers.empty()) {
    std::vector<std::string> xs;
    for (auto& [host, port] : r.static_workers)
      xs.push_back(host + ":" + std::to_string(port));
    append_kv(out, "workers", join(xs));
  }
  return out;
}

std::string routing_model_text(const model_config& m) {
  auto& r = m.routing;
  std::string out;
  append_kv(out, "shards", std::to_string(r.shards));
  append_kv(out, "shard-mode", to_string(r.mode));
  if (!r.balance.empty())
    append_kv(out, "balance", r.balance);
  append_kv(out, "fallback", to_string(r.fallback));
  append_kv(out, "schema", to_string(r.schema));
  if (!r.schema_keys.empty())
    append_kv(out, "schema-keys", join(r.schema_keys));
  append_kv(out, "quantized", r.quantized ? "true" : "false");
  append_kv(out, "cacheable", m.cacheable ? "true" : "false");
  append_kv(out, "timeout-ms", std::to_string(r.timeout.count()));
  return out;
}

std::string routing_node_usage() {
  return usage_of(node_options(), 30, "  --");
}

std::string routing_model_usage() {
  return usage_of(model_options(), 32, "  ");
}

} // namespace dine
