#pragma once

// The pipeline of one model: which preprocessing and postprocessing steps
// run, with which options, and where each runs (docs/design.md,
// "Pre- and post-processing pipelines"; docs/operations.md, `preproc` and
// `postproc`).

#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace dine {

/// What one step does.
enum class step_kind : uint8_t {
  normalize,  ///< Case folding, control characters, whitespace.
  tokenize,   ///< `prompt` -> `tokens` with the model's tokenizer.
  detokenize, ///< `tokens` -> `text` with the model's tokenizer.
  softmax,    ///< `logits` (or a bare array) -> `probs`.
  top_k,      ///< `probs` -> `top`: the k best {index, score}.
  labels,     ///< `top` entries gain a `label`.
  pass,       ///< Nothing but its `cost-us` (measurements).
};

/// Returns the config name of `x` (`top-k` for top_k).
const char* to_string(step_kind x);

/// Where a step runs.
enum class step_place : uint8_t {
  worker, ///< Co-located: on the model worker, around the model.
  pool,   ///< Disaggregated: in the model's preproc / postproc pool.
};

/// One configured step.
struct step_spec {
  step_kind kind = step_kind::pass;
  step_place place = step_place::worker;
  uint32_t cost_us = 0; ///< CPU time burnt per item (measurements).
  /// normalize / tokenize: the map key of the text (a bare string input is
  /// used as it is).
  std::string field = "prompt";
  bool fold_case = true;          ///< normalize: `case=keep` turns folding off.
  uint32_t k = 5;                 ///< top-k.
  std::vector<std::string> names; ///< labels: label of index i.

  bool operator==(const step_spec& o) const {
    return kind == o.kind && place == o.place && cost_us == o.cost_us &&
           field == o.field && fold_case == o.fold_case && k == o.k &&
           names == o.names;
  }
};

/// The steps of one model, in order, each with its place.
struct pipeline_spec {
  std::vector<step_spec> pre;  ///< Before the model.
  std::vector<step_spec> post; ///< After the model.
  /// `pool-fallback`: when a pool stage has no process that can take it
  /// (runtime/stage_tracker.hpp, `falls_back`), its @pool steps run on a
  /// model worker instead, as stage `NAME@pre-fallback` /
  /// `NAME@post-fallback`.
  bool fallback = false;

  bool empty() const noexcept { return pre.empty() && post.empty(); }

  /// Returns whether a step of `steps` runs at `where`.
  static bool any_at(const std::vector<step_spec>& steps, step_place where);

  /// Returns the steps of `steps` that run at `where`, in order.
  static std::vector<step_spec> at(const std::vector<step_spec>& steps,
                                   step_place where);

  bool operator==(const pipeline_spec& o) const {
    return pre == o.pre && post == o.post && fallback == o.fallback;
  }
};

/// Which list a step text belongs to: checks the kinds and the order of
/// places (pool steps of `pre` come before its worker steps; worker steps
/// of `post` before its pool steps, so a request crosses each pool once).
enum class step_list : uint8_t { pre, post };

/// Parses a comma-separated list of steps:
/// `NAME[@worker|@pool] [KEY=VALUE ...]`, e.g.
/// `normalize@pool cost-us=500, tokenize@pool`. Keys: `cost-us` (any
/// step), `field` and `case=fold|keep` (normalize, tokenize), `k`
/// (top-k), `names=a|b|c` (labels). Errors are `invalid_config` naming the
/// step and the problem. An empty text is an empty list.
caf::expected<std::vector<step_spec>> parse_steps(const std::string& text,
                                                  step_list which);

/// Renders `steps` in the syntax `parse_steps` reads (defaults left out).
std::string steps_text(const std::vector<step_spec>& steps);

/// The model name of the pool stage of `model` (`NAME@pre`, `NAME@post`).
std::string stage_model_name(const std::string& model, step_list which);

/// The model name of the co-located fallback of that stage
/// (`NAME@pre-fallback`, `NAME@post-fallback`): the same steps, served by
/// the model's workers (`pool-fallback`).
std::string fallback_model_name(const std::string& model, step_list which);

} // namespace dine
