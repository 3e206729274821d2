#include "runtime/backends/tokens_backend.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <thread>

#include <msgpack.hpp>

#include "messages/errc.hpp"
#include "runtime/model_backend.hpp"
#include "runtime/msgpack_reader.hpp"
#include "runtime/node_config.hpp"

namespace dine {

namespace {

constexpr uint32_t block_tokens = 16;     ///< Tokens per KV block.
constexpr uint64_t bytes_per_token = 64;  ///< Simulated KV bytes.
constexpr uint64_t default_blocks = 256;  ///< Without `kv-cache-bytes`.
constexpr uint32_t context_window = 1024; ///< Prompt + output tokens.
constexpr uint32_t default_max_tokens = 16;

/// One sequence's validated request.
struct seq_request {
  uint64_t hash = 0;          ///< fnv1a of the prompt (or its token ids).
  uint32_t prompt_tokens = 0; ///< Bytes of `prompt`, or ids in `tokens`.
  uint32_t max_tokens = default_max_tokens;
  std::vector<std::string> stop;
};

caf::error bad(std::string what) {
  return make_error(errc::invalid_input, std::move(what));
}

/// Reads the inputs map the generator contract names.
caf::error parse(const std::vector<uint8_t>& in, seq_request& out) {
  msgpack_reader rd{in.data(), in.size()};
  uint32_t n = 0;
  if (rd.peek() != msgpack_reader::kind::map || !rd.read_map_header(n))
    return bad("inputs must be a map with `prompt` or `tokens`");
  bool have_prompt = false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key;
    if (!rd.read_str(key))
      return bad("inputs keys must be strings");
    if (key == "prompt") {
      std::string_view s;
      if (!rd.read_str(s))
        return bad("`prompt` must be a string");
      out.hash = fnv1a(reinterpret_cast<const uint8_t*>(s.data()), s.size());
      out.prompt_tokens =
          static_cast<uint32_t>(std::min<size_t>(s.size(), UINT32_MAX));
      have_prompt = true;
    } else if (key == "tokens") {
      uint32_t m = 0;
      if (!rd.read_array_header(m))
        return bad("`tokens` must be an array of token ids");
      uint64_t h = 14695981039346656037ull;
      for (uint32_t j = 0; j < m; ++j) {
        int64_t t = 0;
        if (!rd.read_int(t) || t < 0 || t > INT32_MAX)
          return bad("`tokens` must hold token ids 0-2147483647");
        h = (h ^ static_cast<uint64_t>(t)) * 1099511628211ull;
      }
      out.hash = h;
      out.prompt_tokens = m;
      have_prompt = true;
    } else if (key == "max_tokens") {
      uint64_t x = 0;
      if (!rd.read_uint(x) || x == 0)
        return bad("`max_tokens` must be a positive integer");
      out.max_tokens = static_cast<uint32_t>(std::min<uint64_t>(x, UINT32_MAX));
    } else if (key == "temperature") {
      double t = 0;
      if (!rd.read_double(t) || !(t >= 0))
        return bad("`temperature` must be a number >= 0");
    } else if (key == "top_p") {
      double p = 0;
      if (!rd.read_double(p) || !(p > 0 && p <= 1))
        return bad("`top_p` must be a number in (0, 1]");
    } else if (key == "seed") {
      uint64_t x = 0;
      if (!rd.read_uint(x))
        return bad("`seed` must be an unsigned integer");
    } else if (key == "stop") {
      uint32_t m = 0;
      if (!rd.read_array_header(m) || m > 16)
        return bad("`stop` must be a list of at most 16 strings");
      for (uint32_t j = 0; j < m; ++j) {
        std::string_view s;
        if (!rd.read_str(s) || s.empty() || s.size() > 256)
          return bad("`stop` must hold strings of 1-256 bytes");
        out.stop.emplace_back(s);
      }
    } else if (!rd.skip()) {
      return bad("inputs are malformed");
    }
  }
  if (!have_prompt)
    return bad("inputs need `prompt` (a string) or `tokens` (token ids)");
  if (out.prompt_tokens >= context_window)
    return bad("prompt of " + std::to_string(out.prompt_tokens) +
               " tokens does not fit the context window of " +
               std::to_string(context_window) + " tokens");
  return {};
}

/// The generator: every sequence reserves the KV blocks of its whole
/// window (prompt + max_tokens, capped by the context) when it starts, so
/// the pool never over-commits; they return when it ends.
class tokens_generator : public generator {
public:
  explicit tokens_generator(const model_config& cfg)
      : step_us_(cfg.fixed_us), per_seq_us_(cfg.per_item_us) {
    auto block_bytes = uint64_t{block_tokens} * bytes_per_token;
    total_ = cfg.kv_cache_bytes > 0 ? cfg.kv_cache_bytes / block_bytes
                                    : default_blocks;
  }

  caf::error add(uint64_t seq, const std::vector<uint8_t>& inputs,
                 clock::time_point wait_until) override {
    seq_request req;
    if (auto err = parse(inputs, req))
      return err;
    auto need = blocks_for(req);
    if (need > total_)
      return bad("request needs " + std::to_string(need) +
                 " KV blocks, the pool has " + std::to_string(total_));
    if (seqs_.count(seq) > 0)
      return make_error(errc::internal,
                        "sequence " + std::to_string(seq) + " exists");
    auto& s = seqs_[seq];
    s.req = std::move(req);
    s.wait_until = wait_until;
    waiting_.push_back(seq);
    return {};
  }

  void cancel(uint64_t seq) override {
    if (auto i = seqs_.find(seq); i != seqs_.end())
      i->second.cancelled = true;
  }

  bool busy() const override { return !seqs_.empty(); }

  void step(std::vector<gen_event>& out) override {
    auto now = clock::now();
    // Cancelled and expired waiting sequences end; the rest start in
    // order while their blocks fit.
    for (auto i = waiting_.begin(); i != waiting_.end();) {
      auto& s = seqs_.at(*i);
      if (s.cancelled) {
        finish(*i, s, finish_reason::cancelled, out);
        seqs_.erase(*i);
      } else if (now >= s.wait_until) {
        expire(*i, out);
      } else if (used_ + blocks_for(s.req) <= total_) {
        s.blocks = blocks_for(s.req);
        used_ += s.blocks;
        s.running = true;
        ++running_;
      } else {
        ++i;
        continue;
      }
      i = waiting_.erase(i);
    }
    if (running_ > 0) // the simulated device time of one decode step
      std::this_thread::sleep_for(std::chrono::microseconds{
          step_us_ + uint64_t{per_seq_us_} * running_});
    for (auto i = seqs_.begin(); i != seqs_.end();) {
      auto& s = i->second;
      if (!s.running) {
        ++i;
        continue;
      }
      if (s.cancelled) {
        finish(i->first, s, finish_reason::cancelled, out);
        i = seqs_.erase(i);
        continue;
      }
      gen_event ev;
      ev.seq = i->first;
      auto k = static_cast<uint32_t>(s.tokens.size());
      auto tok = static_cast<int32_t>((s.req.hash + k) & 0x7fffffff);
      s.tokens.push_back(tok);
      ev.tokens.push_back(tok);
      ev.text = "t" + std::to_string(k) + " ";
      s.text += ev.text;
      auto reason = finish_reason::none;
      for (auto& x : s.req.stop)
        if (s.text.size() >= x.size() &&
            s.text.compare(s.text.size() - x.size(), x.size(), x) == 0)
          reason = finish_reason::stop;
      if (reason == finish_reason::none &&
          (k + 1 >= s.req.max_tokens ||
           s.req.prompt_tokens + k + 1 >= context_window))
        reason = finish_reason::length;
      if (reason == finish_reason::none) {
        out.push_back(std::move(ev));
        ++i;
        continue;
      }
      out.push_back(std::move(ev));
      finish(i->first, s, reason, out);
      i = seqs_.erase(i);
    }
    // Those whose wait ran out during this step's device time learn it now,
    // not a step later: the batcher leaves a margin of one step's worth
    // before the deadline (actors/batcher_flush.cpp).
    now = clock::now();
    for (auto i = waiting_.begin(); i != waiting_.end();) {
      if (now < seqs_.at(*i).wait_until) {
        ++i;
        continue;
      }
      expire(*i, out);
      i = waiting_.erase(i);
    }
  }

  gen_stats stats() const override {
    gen_stats x;
    x.kv_blocks_total = total_;
    x.kv_blocks_used = used_;
    x.kv_bytes_per_block = uint64_t{block_tokens} * bytes_per_token;
    x.running = running_;
    x.waiting = static_cast<uint32_t>(waiting_.size());
    return x;
  }

private:
  /// Ends waiting sequence `seq` with `overloaded` (the caller removes it
  /// from `waiting_`).
  void expire(uint64_t seq, std::vector<gen_event>& out) {
    gen_event ev;
    ev.seq = seq;
    ev.done = true;
    ev.reason = finish_reason::error;
    ev.code = static_cast<uint8_t>(errc::overloaded);
    ev.message = "no KV blocks free within the request's deadline (" +
                 std::to_string(used_) + " of " + std::to_string(total_) +
                 " in use)";
    out.push_back(std::move(ev));
    seqs_.erase(seq);
  }

  struct sequence {
    seq_request req;
    clock::time_point wait_until;
    std::vector<int32_t> tokens;
    std::string text;
    uint64_t blocks = 0;
    bool running = false;
    bool cancelled = false;
  };

  static uint64_t blocks_for(const seq_request& r) {
    auto window = std::min<uint64_t>(uint64_t{r.prompt_tokens} + r.max_tokens,
                                     context_window);
    return (window + block_tokens - 1) / block_tokens;
  }

  /// Ends `s` (the caller erases it): its blocks return to the pool and
  /// the last event carries the final outputs. A sequence that produced a
  /// token in this step gets `done` on that token's event.
  void finish(uint64_t id, sequence& s, finish_reason reason,
              std::vector<gen_event>& out) {
    if (s.running) {
      used_ -= s.blocks;
      --running_;
    }
    if (out.empty() || out.back().seq != id) {
      out.emplace_back();
      out.back().seq = id;
    }
    auto& ev = out.back();
    ev.done = true;
    ev.reason = reason;
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk{buf};
    pk.pack_map(4);
    pk.pack(std::string{"text"});
    pk.pack(s.text);
    pk.pack(std::string{"tokens"});
    pk.pack(s.tokens);
    pk.pack(std::string{"finish_reason"});
    pk.pack(std::string{to_string(reason)});
    pk.pack(std::string{"usage"});
    pk.pack_map(2);
    pk.pack(std::string{"prompt_tokens"});
    pk.pack_uint32(s.req.prompt_tokens);
    pk.pack(std::string{"completion_tokens"});
    pk.pack_uint32(static_cast<uint32_t>(s.tokens.size()));
    ev.outputs.assign(buf.data(), buf.data() + buf.size());
  }

  uint32_t step_us_;
  uint32_t per_seq_us_;
  uint64_t total_ = 0;
  uint64_t used_ = 0;
  uint32_t running_ = 0;
  std::map<uint64_t, sequence> seqs_;
  std::deque<uint64_t> waiting_;
};

} // namespace

caf::expected<std::unique_ptr<generator>>
make_tokens_generator(const model_config& cfg) {
  return std::unique_ptr<generator>{new tokens_generator(cfg)};
}

} // namespace dine
