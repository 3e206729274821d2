#include "runtime/backends/stage_backend.hpp"

#include "messages/errc.hpp"
#include "runtime/step_runner.hpp"

namespace dine {

namespace {

class stage_backend : public model_backend {
public:
  explicit stage_backend(step_runner steps) : steps_(std::move(steps)) {
    // nop
  }

  void run(std::vector<batch_item>& in,
           std::vector<item_result>& out) override {
    for (size_t i = 0; i < in.size(); ++i) {
      auto data = std::move(in[i].inputs);
      if (auto err = steps_.run(data)) {
        auto [code, what] = classify(err);
        out[i].code = static_cast<uint8_t>(code);
        out[i].message = std::move(what);
        continue;
      }
      out[i].outputs = std::move(data);
    }
  }

private:
  step_runner steps_;
};

} // namespace

caf::expected<std::unique_ptr<model_backend>>
make_stage_backend(const model_config& cfg) {
  bool pre = !cfg.pipeline.pre.empty();
  auto steps = pre ? cfg.pipeline.pre : cfg.pipeline.post;
  auto r = step_runner::make(std::move(steps), cfg.tokenizer,
                             pre ? "preproc" : "postproc");
  if (!r)
    return make_error(errc::invalid_config, "model `" + cfg.name + "`: " +
                                                classify(r.error()).second);
  return std::unique_ptr<model_backend>{new stage_backend(std::move(*r))};
}

} // namespace dine
