#pragma once

// The config keys of generative models (backend `transformer`,
// docs/models.md): per-model files and KV cache sizing, and the
// command-line shorthand `--checkpoint=PATH --tokenizer=PATH` that defines
// and serves model `transformer`.

#include <map>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "runtime/config_option.hpp"
#include "runtime/model_config.hpp"

namespace dine {

/// The per-model keys of generative models, rows of the [model.NAME] table
/// (shown by `--check` for generative backends only).
const config_table<model_config>& generative_model_options();

/// Returns whether `key` is the node shorthand `checkpoint` or `tokenizer`.
bool is_generative_node_key(const std::string& key);

/// The node shorthand: sets `checkpoint` or `tokenizer` of model
/// `transformer` in `table` (defining it with backend `transformer`) and
/// adds it to `models`. False if the value is invalid.
bool set_generative_shorthand(std::map<std::string, model_config>& table,
                              std::vector<std::string>& models,
                              const std::string& key, const std::string& value);

/// Checks that every model of a generative backend names both files.
caf::error
validate_generative(const std::map<std::string, model_config>& table);

} // namespace dine
