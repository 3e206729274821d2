#include "runtime/generative_config.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

#include "messages/errc.hpp"
#include "runtime/backends/generator.hpp"
#include "runtime/config_parse.hpp"

namespace dine {

namespace {

struct gen_option {
  const char* key;
  const char* help;
  const char* expects;
  std::function<bool(model_config&, const std::string&)> set;
};

const std::vector<gen_option>& gen_options() {
  static const std::vector<gen_option> table = {
      {"checkpoint", "transformer: llama2.c checkpoint file", "a file path",
       [](model_config& m, const std::string& v) {
         m.checkpoint = v;
         return !v.empty();
       }},
      {"tokenizer", "transformer: llama2.c tokenizer.bin file", "a file path",
       [](model_config& m, const std::string& v) {
         m.tokenizer = v;
         return !v.empty();
       }},
      {"kv-cache-bytes", "generative models: KV cache pool size in bytes",
       "bytes 1024-68719476736",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.kv_cache_bytes, 1024, uint64_t{1} << 36);
       }},
      {"kv-block-size", "transformer: tokens per KV cache block",
       "an integer 1-1024",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.kv_block_size, 1, 1024);
       }},
      {"max-running", "transformer: sequences per decode step",
       "an integer 1-4096",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.max_running, 1, 4096);
       }},
      {"threads", "transformer: compute threads of one step", "an integer 1-64",
       [](model_config& m, const std::string& v) {
         return parse_uint(v, m.threads, 1, 64);
       }},
  };
  return table;
}

const char* shorthand_model = "transformer";

} // namespace

bool is_generative_model_key(const std::string& sub) {
  for (auto& opt : gen_options())
    if (sub == opt.key)
      return true;
  return false;
}

caf::error apply_generative_model_option(model_config& m,
                                         const std::string& sub,
                                         const std::string& key,
                                         const std::string& value,
                                         const std::string& origin) {
  for (auto& opt : gen_options())
    if (sub == opt.key) {
      if (!opt.set(m, value))
        return make_error(errc::invalid_config,
                          origin + ": `" + key + "` = `" + value +
                              "` is invalid: expected " + opt.expects);
      return caf::none;
    }
  return make_error(errc::invalid_config,
                    origin + ": unknown per-model key `" + key + "`");
}

bool is_generative_node_key(const std::string& key) {
  return key == "checkpoint" || key == "tokenizer";
}

caf::error apply_generative_node_option(node_config& cfg,
                                        const std::string& key,
                                        const std::string& value,
                                        const std::string& origin) {
  auto& m = cfg.model_table[shorthand_model];
  m.name = shorthand_model;
  m.backend = "transformer";
  if (auto err = apply_generative_model_option(m, key, key, value, origin))
    return err;
  if (std::find(cfg.models.begin(), cfg.models.end(), shorthand_model) ==
      cfg.models.end())
    cfg.models.emplace_back(shorthand_model);
  return caf::none;
}

caf::error validate_generative(const node_config& cfg) {
  for (auto& [name, m] : cfg.model_table)
    if (m.backend == "transformer" &&
        (m.checkpoint.empty() || m.tokenizer.empty()))
      return make_error(errc::invalid_config,
                        "model `" + name +
                            "`: backend transformer needs `checkpoint` and "
                            "`tokenizer` (files are checked when the "
                            "worker starts the model)");
  return caf::none;
}

std::string generative_model_text(const model_config& m) {
  std::string out;
  if (!is_generative(m.backend))
    return out;
  if (!m.checkpoint.empty())
    append_kv(out, "checkpoint", m.checkpoint);
  if (!m.tokenizer.empty())
    append_kv(out, "tokenizer", m.tokenizer);
  append_kv(out, "kv-cache-bytes", std::to_string(m.kv_cache_bytes));
  append_kv(out, "kv-block-size", std::to_string(m.kv_block_size));
  append_kv(out, "max-running", std::to_string(m.max_running));
  append_kv(out, "threads", std::to_string(m.threads));
  return out;
}

std::string generative_model_usage() {
  std::string out;
  for (auto& opt : gen_options()) {
    out += "  ";
    out += opt.key;
    out += std::string(32 - std::min<size_t>(31, std::strlen(opt.key)), ' ');
    out += opt.help;
    out += '\n';
  }
  return out;
}

std::string generative_node_usage() {
  return "  --checkpoint=PATH              define model `transformer` from a "
         "llama2.c checkpoint and serve it\n"
         "  --tokenizer=PATH               its tokenizer.bin\n";
}

} // namespace dine
