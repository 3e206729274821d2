#pragma once

// The classifier steps of a model pipeline (runtime/pipeline_spec.hpp):
// softmax, top-k and label mapping of msgpack outputs (docs/design.md,
// "Pre- and post-processing pipelines").

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>

namespace dine {

/// Turns logits into probabilities: a bare array of numbers, or the array
/// `logits` of a map, becomes `probs` (a map `{probs: [...]}` for a bare
/// array; in a map `logits` is replaced, other keys kept). Computed with
/// the maximum subtracted (no overflow). Errors (`invalid_input`): no
/// such array, an empty one, or a value that is not a finite number.
caf::error softmax_outputs(std::vector<uint8_t>& outputs);

/// Replaces `probs` (or a bare array of numbers) by `top`: the `k` largest
/// as `{index, score}` maps, best first, ties by the lower index.
caf::error top_k_outputs(std::vector<uint8_t>& outputs, uint32_t k);

/// Adds `label: names[index]` to every entry of `top`. An index without a
/// name is `invalid_input`.
caf::error label_outputs(std::vector<uint8_t>& outputs,
                         const std::vector<std::string>& names);

} // namespace dine
