#pragma once

// The `stage` backend: what a preproc or postproc pool runs for a pool
// stage `NAME@pre` / `NAME@post` (runtime/stage_models.hpp). Each item's
// value goes through the stage's steps (runtime/step_runner.hpp); a step
// that fails fails that item alone, with an error naming the stage and the
// step.

#include <memory>

#include <caf/expected.hpp>

#include "runtime/model_backend.hpp"

namespace dine {

/// Creates the backend of stage model `cfg` (its `pipeline` holds the
/// steps). Errors: `invalid_config` (a tokenizer file that cannot be read).
caf::expected<std::unique_ptr<model_backend>>
make_stage_backend(const model_config& cfg);

} // namespace dine
