#include "runtime/generative_config.hpp"

#include <algorithm>

#include "messages/errc.hpp"
#include "runtime/backends/generator.hpp"
#include "runtime/config_parse.hpp"

namespace dine {

namespace {

using opt = std::optional<std::string>;

/// Shows `x` for generative models only.
template <class F>
auto gen_only(F f) {
  return [f](const model_config& m) -> opt {
    if (!is_generative(m.backend))
      return std::nullopt;
    return f(m);
  };
}

const char* shorthand_model = "transformer";

} // namespace

const config_table<model_config>& generative_model_options() {
  static const config_table<model_config> table = {
      {"checkpoint", "transformer: llama2.c checkpoint file", "a file path",
       [](model_config& m, const std::string& v) {
         m.checkpoint = v;
         return !v.empty();
       },
       gen_only([](const model_config& m) -> opt {
         if (m.checkpoint.empty())
           return std::nullopt;
         return m.checkpoint;
       })},
      {"tokenizer", "transformer: llama2.c tokenizer.bin file", "a file path",
       [](model_config& m, const std::string& v) {
         m.tokenizer = v;
         return !v.empty();
       },
       gen_only([](const model_config& m) -> opt {
         if (m.tokenizer.empty())
           return std::nullopt;
         return m.tokenizer;
       })},
      {"kv-cache-bytes", "generative models: KV cache pool size in bytes",
       "bytes 1024-68719476736",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.kv_cache_bytes, 1024, uint64_t{1} << 36);
       },
       gen_only([](const model_config& m) -> opt {
         return std::to_string(m.kv_cache_bytes);
       })},
      {"kv-block-size", "transformer: tokens per KV cache block",
       "an integer 1-1024",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.kv_block_size, 1, 1024);
       },
       gen_only([](const model_config& m) -> opt {
         return std::to_string(m.kv_block_size);
       })},
      {"max-running", "transformer: sequences per decode step",
       "an integer 1-4096",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.max_running, 1, 4096);
       },
       gen_only([](const model_config& m) -> opt {
         return std::to_string(m.max_running);
       })},
      {"threads", "transformer: compute threads of one step", "an integer 1-64",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.threads, 1, 64);
       },
       gen_only([](const model_config& m) -> opt {
         return std::to_string(m.threads);
       })},
  };
  return table;
}

bool is_generative_node_key(const std::string& key) {
  return key == "checkpoint" || key == "tokenizer";
}

bool set_generative_shorthand(std::map<std::string, model_config>& table,
                              std::vector<std::string>& models,
                              const std::string& key,
                              const std::string& value) {
  auto& m = table[shorthand_model];
  m.name = shorthand_model;
  m.backend = "transformer";
  auto row = find_option(generative_model_options(), key);
  if (row == nullptr || !row->set(m, value))
    return false;
  if (std::find(models.begin(), models.end(), shorthand_model) == models.end())
    models.emplace_back(shorthand_model);
  return true;
}

caf::error
validate_generative(const std::map<std::string, model_config>& table) {
  for (auto& [name, m] : table)
    if (m.backend == "transformer" &&
        (m.checkpoint.empty() || m.tokenizer.empty()))
      return make_error(errc::invalid_config,
                        "model `" + name +
                            "`: backend transformer needs `checkpoint` and "
                            "`tokenizer` (files are checked when the "
                            "worker starts the model)");
  return caf::none;
}

} // namespace dine
