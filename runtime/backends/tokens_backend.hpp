#pragma once

// `tokens`: a synthetic generative backend (docs/models.md). Deterministic
// output without weights, for testing streaming, cancellation, KV-pool
// exhaustion and worker death through the whole cluster: token i of a
// sequence is fnv1a(prompt) + i, its text "t<i> ".

#include <memory>

#include <caf/expected.hpp>

#include "runtime/backends/generator.hpp"

namespace dine {

struct model_config;

/// Creates a `tokens` generator for `cfg`.
caf::expected<std::unique_ptr<generator>>
make_tokens_generator(const model_config& cfg);

} // namespace dine
