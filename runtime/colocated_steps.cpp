#include "runtime/colocated_steps.hpp"

#include "messages/errc.hpp"

namespace dine {

caf::expected<colocated_steps> colocated_steps::make(const model_config& m) {
  colocated_steps c;
  auto pre =
      step_runner::make(pipeline_spec::at(m.pipeline.pre, step_place::worker),
                        m.tokenizer, "preproc");
  if (!pre)
    return std::move(pre.error());
  auto post =
      step_runner::make(pipeline_spec::at(m.pipeline.post, step_place::worker),
                        m.tokenizer, "postproc");
  if (!post)
    return std::move(post.error());
  c.pre_ = std::move(*pre);
  c.post_ = std::move(*post);
  return c;
}

bool colocated_steps::pre(batch_item& it, item_result& failed) const {
  if (pre_.empty())
    return true;
  auto err = pre_.run(it.inputs);
  if (!err)
    return true;
  auto [code, what] = classify(err);
  failed.rid = it.rid;
  failed.code = static_cast<uint8_t>(code);
  failed.message = std::move(what);
  return false;
}

void colocated_steps::post(item_result& r) const {
  if (post_.empty() || r.code != 0)
    return;
  if (auto err = post_.run(r.outputs)) {
    auto [code, what] = classify(err);
    r.code = static_cast<uint8_t>(code);
    r.message = std::move(what);
    r.outputs.clear();
  }
}

bool colocated_steps::pre_all(std::vector<batch_item>& items,
                              std::vector<item_result>& out,
                              std::vector<size_t>& kept) const {
  kept.clear();
  if (pre_.empty())
    return false;
  bool any = false;
  size_t w = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!pre(items[i], out[i])) {
      any = true;
      continue;
    }
    if (w != i)
      items[w] = std::move(items[i]);
    kept.push_back(i);
    ++w;
  }
  items.resize(w);
  return any;
}

} // namespace dine
