#pragma once

// The @worker steps of one model's pipeline: run by its session on the
// model worker, before the model (preprocessing) and after it
// (postprocessing), item by item (docs/design.md, "Pre- and
// post-processing pipelines"). A model without such steps costs one
// `empty()` test per batch.

#include <caf/expected.hpp>

#include "messages/batch.hpp"
#include "runtime/model_config.hpp"
#include "runtime/step_runner.hpp"

namespace dine {

class colocated_steps {
public:
  colocated_steps() = default;

  /// Prepares the @worker steps of `m` (errors: `invalid_config`, a
  /// tokenizer file that cannot be read).
  static caf::expected<colocated_steps> make(const model_config& m);

  bool empty() const noexcept { return pre_.empty() && post_.empty(); }

  /// Runs the preprocessing steps on `it.inputs`. On an error, fills
  /// `failed` (code and message naming the step) and returns false.
  bool pre(batch_item& it, item_result& failed) const;

  /// Runs the postprocessing steps on the outputs of `r` if it is ok; an
  /// error turns `r` into that error.
  void post(item_result& r) const;

  /// Runs `pre` on every item of `items`: the failed ones leave `items`
  /// and their results go to `out` at their index (`kept[i]`: the index in
  /// the original batch of what `items[i]` is now). Returns whether any
  /// item failed.
  bool pre_all(std::vector<batch_item>& items, std::vector<item_result>& out,
               std::vector<size_t>& kept) const;

private:
  step_runner pre_;
  step_runner post_;
};

} // namespace dine
