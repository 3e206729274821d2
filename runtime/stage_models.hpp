#pragma once

// The pool stages of model pipelines as models of their own: `NAME@pre`
// runs the @pool preprocessing steps of model NAME, `NAME@post` its @pool
// postprocessing steps. A preproc or postproc process serves them like a
// worker serves a model, so registration, heartbeats, balancing, health,
// retries and draining are the worker machinery's (docs/design.md,
// "Pre- and post-processing pipelines").

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/model_config.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// The config of stage `name` (`X@pre` or `X@post`) of `table`, or nothing
/// if `name` is not a stage of a model of `table` with @pool steps there.
/// Backend `stage`; its pipeline holds only that stage's steps; version 1;
/// never cached; batched up to X's `max-batch-size` without waiting.
std::optional<model_config>
stage_model(const std::map<std::string, model_config>& table,
            const std::string& name);

/// Returns `table` with every stage model its pipelines need added.
std::map<std::string, model_config>
with_stage_models(std::map<std::string, model_config> table);

/// Whether model `m` has @pool steps in `which`.
bool has_pool_stage(const model_config& m, step_list which);

/// The models a worker of `cfg` serves: `models`, except that a `preproc`
/// / `postproc` role serves the stages of every model with pool steps in
/// its list, and a `--role=all` node adds the stages of the models it
/// serves (they run as local actors).
std::vector<std::string> served_models(const node_config& cfg);

} // namespace dine
