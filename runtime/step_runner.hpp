#pragma once

// Runs a list of pipeline steps on one msgpack value: what a preproc or
// postproc pool process does per item, and what a model worker does around
// its model for co-located steps (docs/design.md, "Pre- and
// post-processing pipelines").

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "runtime/backends/tokenizer.hpp"
#include "runtime/pipeline_spec.hpp"

namespace dine {

/// Burns `us` microseconds of this thread's CPU time (`cost-us`).
void burn_cpu(uint32_t us);

/// A prepared list of steps.
class step_runner {
public:
  step_runner() = default;

  /// Prepares `steps`; loads `tokenizer_path` if a step needs a tokenizer
  /// (errors: `invalid_config` naming the file or the missing key).
  /// `stage` names the list in errors: `preproc` or `postproc`.
  static caf::expected<step_runner> make(std::vector<step_spec> steps,
                                         const std::string& tokenizer_path,
                                         std::string stage);

  bool empty() const noexcept { return steps_.empty(); }

  /// Runs every step on `data` in order. An error (`invalid_input`) names
  /// the stage and the step: "preproc step `tokenize`: ...".
  caf::error run(std::vector<uint8_t>& data) const;

private:
  std::vector<step_spec> steps_;
  std::shared_ptr<const tokenizer> tok_;
  std::string stage_;
};

} // namespace dine
