#include "runtime/step_runner.hpp"

#include <ctime>

#include "messages/errc.hpp"
#include "runtime/classify_steps.hpp"
#include "runtime/text_steps.hpp"

namespace dine {

namespace {

int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

bool needs_tokenizer(step_kind k) {
  return k == step_kind::tokenize || k == step_kind::detokenize;
}

} // namespace

void burn_cpu(uint32_t us) {
  if (us == 0)
    return;
  auto until = thread_cpu_ns() + int64_t{us} * 1000;
  volatile uint64_t x = 0;
  while (thread_cpu_ns() < until)
    for (int i = 0; i < 256; ++i)
      x = x * 6364136223846793005ull + 1442695040888963407ull;
}

caf::expected<step_runner> step_runner::make(std::vector<step_spec> steps,
                                             const std::string& tokenizer_path,
                                             std::string stage) {
  step_runner r;
  for (auto& s : steps) {
    if (!needs_tokenizer(s.kind) || r.tok_)
      continue;
    if (tokenizer_path.empty())
      return make_error(errc::invalid_config,
                        stage + " step `" + to_string(s.kind) +
                            "` needs the model's `tokenizer` file");
    auto tok = tokenizer::load(tokenizer_path);
    if (!tok)
      return std::move(tok.error());
    r.tok_ = std::make_shared<const tokenizer>(std::move(*tok));
  }
  r.steps_ = std::move(steps);
  r.stage_ = std::move(stage);
  return r;
}

caf::error step_runner::run(std::vector<uint8_t>& data) const {
  for (auto& s : steps_) {
    burn_cpu(s.cost_us);
    caf::error err;
    switch (s.kind) {
    case step_kind::normalize:
      err = normalize_inputs(data, s);
      break;
    case step_kind::tokenize:
      err = tokenize_inputs(data, s, *tok_);
      break;
    case step_kind::detokenize:
      err = detokenize_outputs(data, *tok_);
      break;
    case step_kind::softmax:
      err = softmax_outputs(data);
      break;
    case step_kind::top_k:
      err = top_k_outputs(data, s.k);
      break;
    case step_kind::labels:
      err = label_outputs(data, s.names);
      break;
    case step_kind::pass:
      break;
    }
    if (err) {
      auto [code, what] = classify(err);
      return make_error(code,
                        stage_ + " step `" + to_string(s.kind) + "`: " + what);
    }
  }
  return caf::none;
}

} // namespace dine
