#include "runtime/stage_models.hpp"

#include <algorithm>

namespace dine {

namespace {

constexpr step_list both[] = {step_list::pre, step_list::post};

const std::vector<step_spec>& steps_of(const model_config& m, step_list which) {
  return which == step_list::pre ? m.pipeline.pre : m.pipeline.post;
}

void add(std::vector<std::string>& out, const std::string& x) {
  if (std::find(out.begin(), out.end(), x) == out.end())
    out.push_back(x);
}

} // namespace

bool has_pool_stage(const model_config& m, step_list which) {
  return pipeline_spec::any_at(steps_of(m, which), step_place::pool);
}

std::optional<model_config>
stage_model(const std::map<std::string, model_config>& table,
            const std::string& name) {
  for (auto which : both)
    for (bool fallback : {false, true}) {
      auto suffix = fallback ? fallback_model_name("", which)
                             : stage_model_name("", which);
      if (name.size() <= suffix.size() ||
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      auto i = table.find(name.substr(0, name.size() - suffix.size()));
      if (i == table.end() || i->second.backend == "stage" ||
          !has_pool_stage(i->second, which) ||
          (fallback && !i->second.pipeline.fallback))
        return std::nullopt;
      auto& base = i->second;
      model_config s;
      s.name = name;
      s.backend = "stage";
      s.version = 1;
      s.max_batch_size = base.max_batch_size;
      s.cacheable = false;
      s.tokenizer = base.tokenizer;
      s.routing.balance = base.routing.balance;
      s.routing.timeout = base.routing.timeout;
      auto pool = pipeline_spec::at(steps_of(base, which), step_place::pool);
      (which == step_list::pre ? s.pipeline.pre : s.pipeline.post) =
          std::move(pool);
      return s;
    }
  return std::nullopt;
}

std::map<std::string, model_config>
with_stage_models(std::map<std::string, model_config> table) {
  std::vector<model_config> stages;
  for (auto& [name, m] : table)
    for (auto which : both) {
      if (auto s = stage_model(table, stage_model_name(name, which)))
        stages.push_back(std::move(*s));
      if (auto s = stage_model(table, fallback_model_name(name, which)))
        stages.push_back(std::move(*s));
    }
  for (auto& s : stages)
    table.emplace(s.name, std::move(s));
  return table;
}

std::vector<std::string> served_models(const node_config& cfg) {
  std::vector<std::string> out;
  if (cfg.preproc_role || cfg.postproc_role) {
    for (auto& [name, m] : cfg.model_table)
      for (auto which : both)
        if ((which == step_list::pre ? cfg.preproc_role : cfg.postproc_role) &&
            m.backend != "stage" && has_pool_stage(m, which))
          add(out, stage_model_name(name, which));
    return out;
  }
  out = cfg.models;
  for (auto& name : cfg.models)
    if (auto i = cfg.model_table.find(name); i != cfg.model_table.end())
      for (auto which : both)
        if (has_pool_stage(i->second, which)) {
          if (cfg.coordinator)
            add(out, stage_model_name(name, which));
          if (i->second.pipeline.fallback)
            add(out, fallback_model_name(name, which));
        }
  return out;
}

} // namespace dine
