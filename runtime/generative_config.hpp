#pragma once

// The config keys of generative models (backend `transformer`,
// docs/models.md): per-model files and KV cache sizing, and the
// command-line shorthand `--checkpoint=PATH --tokenizer=PATH` that defines
// and serves model `transformer`.

#include <string>

#include <caf/error.hpp>

#include "runtime/node_config.hpp"

namespace dine {

/// Returns whether `sub` (the KEY of `model.NAME.KEY`) is a key of this
/// table.
bool is_generative_model_key(const std::string& sub);

/// Sets per-model key `sub` of `m`; `key` is the full key for errors.
caf::error apply_generative_model_option(model_config& m,
                                         const std::string& sub,
                                         const std::string& key,
                                         const std::string& value,
                                         const std::string& origin);

/// Returns whether `key` is the node shorthand `checkpoint` or `tokenizer`.
bool is_generative_node_key(const std::string& key);

/// Sets `checkpoint` or `tokenizer` of model `transformer` (defining it
/// with backend `transformer`) and adds it to the served models.
caf::error apply_generative_node_option(node_config& cfg,
                                        const std::string& key,
                                        const std::string& value,
                                        const std::string& origin);

/// Checks that every model of a generative backend names both files.
caf::error validate_generative(const node_config& cfg);

/// Renders the keys of this table for `m` (generative models only).
std::string generative_model_text(const model_config& m);

/// Usage lines of the per-model keys and of the node shorthand.
std::string generative_model_usage();
std::string generative_node_usage();

} // namespace dine
