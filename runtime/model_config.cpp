#include "runtime/model_config.hpp"

#include <cstdlib>

#include "messages/errc.hpp"
#include "runtime/config_parse.hpp"
#include "runtime/generative_config.hpp"

namespace dine {

namespace {

using opt = std::optional<std::string>;

std::string num(uint64_t x) {
  return std::to_string(x);
}

/// Shows a fault key only while a fault is configured.
template <class F>
auto if_fault(F f) {
  return [f](const model_config& m) -> opt {
    if (m.fault.kind == fault_kind::off)
      return std::nullopt;
    return f(m);
  };
}

config_table<model_config> make_model_options() {
  config_table<model_config> table = {
      {"backend", "echo | cost | sleep | tokens | transformer",
       "one of echo, cost, sleep, tokens, transformer",
       [](model_config& m, const std::string& v) {
         m.backend = v;
         return v == "echo" || v == "cost" || v == "sleep" || v == "tokens" ||
                v == "transformer";
       },
       [](const model_config& m) -> opt { return m.backend; }},
      {"version", "model version", "an integer 1-4294967295",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.version, 1, UINT32_MAX);
       },
       [](const model_config& m) -> opt { return num(m.version); }},
      {"max-batch-size", "largest batch", "an integer 1-4096",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.max_batch_size, 1, 4096);
       },
       [](const model_config& m) -> opt { return num(m.max_batch_size); }},
      {"max-delay-us", "longest wait of a request for a fuller batch",
       "microseconds 0-10000000",
       [](model_config& m, const std::string& v) {
         uint64_t x;
         if (!parse_uint(v, x, 0, 10000000))
           return false;
         m.max_delay = std::chrono::microseconds{x};
         return true;
       },
       [](const model_config& m) -> opt {
         return std::to_string(m.max_delay.count());
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
       },
       [](const model_config& m) -> opt {
         if (m.preferred_sizes.empty())
           return std::nullopt;
         std::string out;
         for (auto x : m.preferred_sizes)
           out += (out.empty() ? "" : ",") + std::to_string(x);
         return out;
       }},
      {"max-queue", "queued requests before `overloaded`",
       "an integer 1-100000000",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.max_queue, 1, 100000000);
       },
       [](const model_config& m) -> opt { return num(m.max_queue); }},
      {"batchable", "false runs one request per invocation", "true or false",
       [](model_config& m, const std::string& v) {
         if (v != "true" && v != "false")
           return false;
         m.batchable = v == "true";
         return true;
       },
       [](const model_config& m) -> opt {
         return m.batchable ? "true" : "false";
       }},
      {"cacheable", "results may be cached and coalesced", "true or false",
       [](model_config& m, const std::string& v) {
         return parse_bool(v, m.cacheable);
       },
       [](const model_config& m) -> opt {
         return m.cacheable ? "true" : "false";
       }},
      {"fault", "fault hook at start: off|crash|crash_on_start|hang|error|slow",
       "one of off, crash, crash_on_start, hang, error, slow",
       [](model_config& m, const std::string& v) {
         return from_string(v, m.fault.kind);
       },
       if_fault([](const model_config& m) -> opt {
         return std::string{to_string(m.fault.kind)};
       })},
      {"fault-rate", "probability per batch that the fault fires",
       "a number from 0 to 1",
       [](model_config& m, const std::string& v) {
         char* end = nullptr;
         auto x = std::strtod(v.c_str(), &end);
         if (v.empty() || end != v.c_str() + v.size() || !(x >= 0 && x <= 1))
           return false;
         m.fault.rate = x;
         return true;
       },
       if_fault([](const model_config& m) -> opt {
         return std::to_string(m.fault.rate);
       })},
      {"fault-count", "batches the fault affects at most (0 = unlimited)",
       "an integer 0-4294967295",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.fault.count, 0, UINT32_MAX);
       },
       if_fault(
           [](const model_config& m) -> opt { return num(m.fault.count); })},
      {"fault-slow-ms", "delay the `slow` fault adds", "milliseconds 0-600000",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.fault.slow_ms, 0, max_fault_slow_ms);
       },
       if_fault(
           [](const model_config& m) -> opt { return num(m.fault.slow_ms); })},
      {"cache-ttl-ms", "TTL of this model's cached results (0 = node default)",
       "milliseconds 0-4294967295",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.cache_ttl_ms, 0, UINT32_MAX);
       },
       [](const model_config& m) -> opt { return num(m.cache_ttl_ms); }},
      {"fixed-us", "cost/sleep: microseconds per invocation",
       "microseconds 0-10000000",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.fixed_us, 0, 10000000);
       },
       [](const model_config& m) -> opt { return num(m.fixed_us); }},
      {"per-item-us", "cost/sleep: microseconds per item",
       "microseconds 0-10000000",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.per_item_us, 0, 10000000);
       },
       [](const model_config& m) -> opt { return num(m.per_item_us); }},
      {"preproc",
       "preprocessing steps: NAME[@worker|@pool] [KEY=VALUE ...], ...",
       "comma-separated steps from normalize, tokenize, pass (e.g. "
       "`normalize@pool cost-us=500, tokenize@pool`)",
       [](model_config& m, const std::string& v) {
         auto steps = parse_steps(v, step_list::pre);
         if (!steps)
           return false;
         m.pipeline.pre = std::move(*steps);
         return true;
       },
       [](const model_config& m) -> opt {
         if (m.pipeline.pre.empty())
           return std::nullopt;
         return steps_text(m.pipeline.pre);
       }},
      {"postproc",
       "postprocessing steps: NAME[@worker|@pool] [KEY=VALUE ...], ...",
       "comma-separated steps from detokenize, softmax, top-k, labels, pass "
       "(e.g. `softmax, top-k k=3@pool`)",
       [](model_config& m, const std::string& v) {
         auto steps = parse_steps(v, step_list::post);
         if (!steps)
           return false;
         m.pipeline.post = std::move(*steps);
         return true;
       },
       [](const model_config& m) -> opt {
         if (m.pipeline.post.empty())
           return std::nullopt;
         return steps_text(m.pipeline.post);
       }},
      {"pool-fallback",
       "@pool steps run on the model worker when no pool process can take "
       "them",
       "true or false",
       [](model_config& m, const std::string& v) {
         return parse_bool(v, m.pipeline.fallback);
       },
       [](const model_config& m) -> opt {
         return m.pipeline.fallback ? "true" : "false";
       }},
  };
  append_rows(table, generative_model_options());
  append_rows(table, lift(model_routing_options(), &model_config::routing));
  return table;
}

} // namespace

const config_table<model_config>& model_options() {
  static const config_table<model_config> table = make_model_options();
  return table;
}

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

caf::error validate_models(const std::map<std::string, model_config>& table) {
  if (auto err = validate_generative(table))
    return err;
  for (auto& [name, m] : table)
    if (auto err = validate_model_routing(name, m.routing))
      return err;
  for (auto& [name, m] : table)
    for (auto* steps : {&m.pipeline.pre, &m.pipeline.post})
      for (auto& s : *steps)
        if ((s.kind == step_kind::tokenize ||
             s.kind == step_kind::detokenize) &&
            m.tokenizer.empty())
          return make_error(errc::invalid_config,
                            "model `" + name + "`: step `" + to_string(s.kind) +
                                "` needs the model's `tokenizer` file");
  return caf::none;
}

std::string
model_config_text(const std::map<std::string, model_config>& table) {
  std::string out;
  for (auto& [name, m] : table) {
    out += "\n\n[model." + name + "]";
    append_shown(out, model_options(), m);
  }
  return out;
}

} // namespace dine
