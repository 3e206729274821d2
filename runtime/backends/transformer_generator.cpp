#include "runtime/backends/transformer_generator.hpp"

#include <algorithm>

#include "messages/errc.hpp"
#include "runtime/node_config.hpp"

namespace dine {

struct transformer_generator::sequence {
  uint64_t id = 0;
  gen_params params;
  std::vector<int32_t> tokens; ///< Prompt, then generated tokens.
  size_t n_prompt = 0;
  size_t n_cached = 0; ///< Tokens whose keys and values are cached.
  std::vector<uint32_t> blocks;
  uint32_t reserved = 0; ///< Blocks reserved in the pool.
  sampler smp;
  text_stream text;
  std::string sent; ///< Text of all events so far.
  clock::time_point wait_until;
  bool cancelled = false;

  sequence(uint64_t seq, gen_params p, clock::time_point until)
      : id(seq), params(std::move(p)),
        smp(params.temperature, params.top_p,
            params.seed ? *params.seed : seq * 0x9e3779b97f4a7c15ULL + 1),
        text(params.stop), wait_until(until) {
    tokens = params.prompt;
    n_prompt = tokens.size();
  }

  std::vector<int32_t> completion() const {
    return {tokens.begin() + static_cast<ptrdiff_t>(n_prompt), tokens.end()};
  }
};

caf::expected<std::unique_ptr<transformer_generator>>
transformer_generator::make(const model_config& cfg, transformer_options opts) {
  auto prefix = "model `" + cfg.name + "`: ";
  auto fail = [&prefix](const caf::error& err) {
    return make_error(errc::invalid_config, prefix + classify(err).second);
  };
  if (cfg.checkpoint.empty() || cfg.tokenizer.empty())
    return make_error(errc::invalid_config,
                      prefix + "backend transformer needs `checkpoint` and "
                               "`tokenizer`");
  auto cp = checkpoint::open(cfg.checkpoint);
  if (!cp)
    return fail(cp.error());
  auto tok = tokenizer::load(cfg.tokenizer);
  if (!tok)
    return fail(tok.error());
  if (auto err = check_vocab(*tok, cp->shape().vocab_size, cfg.tokenizer))
    return fail(err);
  auto pool = kv_pool::make(cp->shape(), cfg.kv_cache_bytes, cfg.kv_block_size);
  if (!pool)
    return fail(pool.error());
  if (cfg.max_running == 0)
    return make_error(errc::invalid_config, prefix + "max-running is 0");
  set_blas_threads(opts.threads);
  return std::unique_ptr<transformer_generator>{
      new transformer_generator(std::move(*cp), std::move(*tok),
                                std::move(*pool), cfg.max_running, opts)};
}

transformer_generator::transformer_generator(checkpoint cp, tokenizer tok,
                                             std::unique_ptr<kv_pool> pool,
                                             uint32_t max_running,
                                             transformer_options opts)
    : cp_(std::move(cp)), tok_(std::move(tok)), pool_(std::move(pool)),
      max_running_(max_running), opts_(opts) {
  model_ =
      std::make_unique<transformer>(cp_, *pool_, opts_.kernel, opts_.threads);
  if (opts_.max_step_rows == 0)
    opts_.max_step_rows = 1;
}

transformer_generator::~transformer_generator() {
  // nop
}

caf::error transformer_generator::add(uint64_t seq,
                                      const std::vector<uint8_t>& inputs,
                                      clock::time_point wait_until) {
  auto p = parse_gen_inputs(inputs, tok_, cp_.shape().seq_len);
  if (!p)
    return std::move(p.error());
  waiting_.push_back(
      std::make_unique<sequence>(seq, std::move(*p), wait_until));
  return caf::none;
}

void transformer_generator::cancel(uint64_t seq) {
  for (auto i = waiting_.begin(); i != waiting_.end(); ++i)
    if ((*i)->id == seq) {
      finish(**i, finish_reason::cancelled, pending_);
      waiting_.erase(i);
      return;
    }
  for (auto& s : running_)
    if (s->id == seq)
      s->cancelled = true;
}

bool transformer_generator::busy() const {
  return !running_.empty() || !waiting_.empty() || !pending_.empty();
}

gen_stats transformer_generator::stats() const {
  gen_stats st;
  st.kv_blocks_total = pool_->total();
  st.kv_blocks_used = pool_->used();
  st.kv_bytes_per_block = pool_->bytes_per_block();
  st.running = static_cast<uint32_t>(running_.size());
  st.waiting = static_cast<uint32_t>(waiting_.size());
  return st;
}

void transformer_generator::release(sequence& s) {
  for (auto b : s.blocks)
    pool_->give(b);
  s.blocks.clear();
  pool_->unreserve(s.reserved);
  s.reserved = 0;
}

void transformer_generator::finish(sequence& s, finish_reason why,
                                   std::vector<gen_event>& out,
                                   std::vector<int32_t> last_tokens) {
  release(s);
  gen_event ev;
  ev.seq = s.id;
  ev.tokens = std::move(last_tokens);
  ev.text = s.text.finish();
  s.sent += ev.text;
  ev.done = true;
  ev.reason = why;
  ev.outputs =
      encode_gen_outputs(s.sent, s.completion(), to_string(why), s.n_prompt);
  out.push_back(std::move(ev));
}

void transformer_generator::admit(std::vector<gen_event>& out) {
  auto now = clock::now();
  const uint64_t window = static_cast<uint64_t>(cp_.shape().seq_len);
  while (!waiting_.empty() && running_.size() < max_running_) {
    auto& s = *waiting_.front();
    auto need = pool_->blocks_for(
        std::min<uint64_t>(s.n_prompt + s.params.max_tokens, window));
    bool fits = need <= pool_->total();
    if (fits && pool_->reserve(need)) {
      s.reserved = need;
      running_.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
      continue;
    }
    if (fits && now < s.wait_until)
      break; // first in line waits for blocks; order is kept
    gen_event ev;
    ev.seq = s.id;
    ev.done = true;
    ev.reason = finish_reason::error;
    ev.code = static_cast<uint8_t>(errc::overloaded);
    ev.message = fits ? "no KV cache blocks became free before the deadline"
                      : "the sequence needs " + std::to_string(need) +
                            " KV blocks, the pool has " +
                            std::to_string(pool_->total());
    out.push_back(std::move(ev));
    waiting_.pop_front();
  }
  // Sequences behind the first may have expired while it waits.
  expire_waiting(now, out);
}

void transformer_generator::expire_waiting(clock::time_point now,
                                           std::vector<gen_event>& out) {
  for (auto i = waiting_.begin(); i != waiting_.end();) {
    if (now >= (*i)->wait_until) {
      gen_event ev;
      ev.seq = (*i)->id;
      ev.done = true;
      ev.reason = finish_reason::error;
      ev.code = static_cast<uint8_t>(errc::overloaded);
      ev.message = "no KV cache blocks became free before the deadline";
      out.push_back(std::move(ev));
      i = waiting_.erase(i);
    } else {
      ++i;
    }
  }
}

bool transformer_generator::advance(sequence& s, int32_t token,
                                    std::vector<gen_event>& out) {
  // EOS ends a sequence; so does BOS, which starts the next one (as
  // llama2.c's generate loop does).
  if (token == tokenizer::eos || token == tokenizer::bos) {
    finish(s, finish_reason::stop, out);
    return false;
  }
  int32_t prev = s.tokens.back();
  s.tokens.push_back(token);
  bool stopped = s.text.push(tok_.decode(prev, token));
  if (stopped) {
    finish(s, finish_reason::stop, out, {token});
    return false;
  }
  auto produced = s.tokens.size() - s.n_prompt;
  if (produced >= s.params.max_tokens ||
      s.tokens.size() >= static_cast<size_t>(cp_.shape().seq_len)) {
    finish(s, finish_reason::length, out, {token});
    return false;
  }
  gen_event ev;
  ev.seq = s.id;
  ev.tokens.push_back(token);
  ev.text = s.text.take();
  s.sent += ev.text;
  out.push_back(std::move(ev));
  return true;
}

void transformer_generator::step(std::vector<gen_event>& out) {
  for (auto& ev : pending_)
    out.push_back(std::move(ev));
  pending_.clear();
  // Cancelled sequences leave first, freeing their blocks for admission.
  for (auto i = running_.begin(); i != running_.end();) {
    if ((*i)->cancelled) {
      finish(**i, finish_reason::cancelled, out);
      i = running_.erase(i);
    } else {
      ++i;
    }
  }
  admit(out);
  if (running_.empty())
    return;
  // Decode rows first (one per sequence), then prompt chunks up to the row
  // budget; a prompt that does not fit finishes its prefill in later steps.
  rows_.clear();
  std::vector<sequence*> sampled;
  uint32_t budget = std::max<uint32_t>(opts_.max_step_rows,
                                       static_cast<uint32_t>(running_.size()));
  auto add_rows = [&](sequence& s, size_t n) {
    size_t end = s.n_cached + n;
    while (s.blocks.size() < pool_->blocks_for(end)) {
      uint32_t id = 0;
      // Cannot fail: admission reserved the sequence's worst case.
      if (!pool_->take(id))
        return;
      s.blocks.push_back(id);
    }
    for (size_t p = s.n_cached; p < end; ++p) {
      fwd_row r;
      r.token = s.tokens[p];
      r.pos = static_cast<int32_t>(p);
      r.blocks = s.blocks.data();
      r.logits = p + 1 == s.tokens.size();
      rows_.push_back(r);
    }
    s.n_cached = end;
    if (end == s.tokens.size())
      sampled.push_back(&s);
    budget -= static_cast<uint32_t>(std::min<size_t>(n, budget));
  };
  for (auto& s : running_)
    if (s->tokens.size() - s->n_cached == 1)
      add_rows(*s, 1);
  for (auto& s : running_) {
    size_t todo = s->tokens.size() - s->n_cached;
    if (todo > 1 && budget > 0)
      add_rows(*s, std::min<size_t>(todo, budget));
  }
  model_->forward(rows_, logits_);
  const int32_t vocab = cp_.shape().vocab_size;
  std::vector<sequence*> ended;
  for (size_t i = 0; i < sampled.size(); ++i) {
    auto& s = *sampled[i];
    auto token = s.smp.sample(&logits_[i * size_t(vocab)], vocab);
    if (!advance(s, token, out))
      ended.push_back(&s);
  }
  if (!ended.empty())
    running_.erase(std::remove_if(running_.begin(), running_.end(),
                                  [&](const std::unique_ptr<sequence>& s) {
                                    return std::find(ended.begin(), ended.end(),
                                                     s.get()) != ended.end();
                                  }),
                   running_.end());
  // Waits that ran out during this step's compute end now, not a step
  // later: the batcher's margin before the deadline is about one step
  // (actors/batcher_flush.cpp).
  expire_waiting(clock::now(), out);
}

} // namespace dine
