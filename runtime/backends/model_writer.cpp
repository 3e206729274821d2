#include "runtime/backends/model_writer.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <unordered_set>
#include <vector>

#include "messages/errc.hpp"
#include "runtime/backends/sampler.hpp"

namespace dine {

namespace {

/// Normal(0, 1) samples from splitmix64 via Box-Muller.
class normal_source {
public:
  explicit normal_source(uint64_t seed) : rng_(seed) {
    // nop
  }

  float next() {
    if (have_) {
      have_ = false;
      return spare_;
    }
    double u1 = (static_cast<double>(rng_.next() >> 11) + 1.0) * 0x1p-53;
    double u2 = static_cast<double>(rng_.next() >> 11) * 0x1p-53;
    double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = static_cast<float>(r * std::sin(2 * M_PI * u2));
    have_ = true;
    return static_cast<float>(r * std::cos(2 * M_PI * u2));
  }

private:
  splitmix64 rng_;
  bool have_ = false;
  float spare_ = 0;
};

// Built-in training text for the merges: short children's stories, the
// register of the TinyStories models the format comes from.
constexpr const char* training_text =
    "Once upon a time, there was a little girl named Lily. She loved to play "
    "outside in the sun with her dog, Max. One day, Lily saw a big red ball "
    "in the park. She wanted to play with it, so she ran to get it. Max ran "
    "with her. They played with the ball all day long. When the sun went "
    "down, Lily and Max went home. Her mom made them a warm dinner. Lily was "
    "very happy. She said, \"Thank you, Mom!\" Her mom smiled and gave her a "
    "big hug. The next day, Lily and Max went to the park again. They saw a "
    "little boy named Tim. Tim was sad because he lost his toy car. Lily "
    "wanted to help him. She looked under the tree and behind the bench. "
    "Max found the car in the grass! Tim was so happy. He said, \"Thank you, "
    "Lily and Max!\" They all played together and became good friends. "
    "Once there was a small bird who lived in a tall tree. The bird liked to "
    "sing every morning. One day, a big wind came and the bird fell from its "
    "nest. A kind cat saw the bird and wanted to help. The cat was careful "
    "and gentle. It carried the bird back to the tree. The bird sang a happy "
    "song for the cat. From that day on, the bird and the cat were friends. "
    "Tom had a blue boat. He liked to play with his boat in the water. One "
    "day, the boat went too far and Tom could not reach it. He was scared "
    "and started to cry. His dad came and helped him get the boat back. Tom "
    "learned to be careful near the water. He said sorry to his dad and they "
    "went home together. The sun was shining and the sky was blue. Sara and "
    "Ben wanted to make a cake for their mom. They took flour, eggs, milk "
    "and sugar. They mixed everything in a big bowl. The cake was yummy and "
    "their mom was very proud of them. It was a good day.";

using word = std::vector<std::string>;

/// Learns BPE merges from `training_text`, appending merged pieces to
/// `pieces` (and `known`) until `limit` pieces or no pair repeats.
void learn_merges(std::vector<std::string>& pieces,
                  std::unordered_set<std::string>& known, size_t limit) {
  std::map<std::string, int> counts; // sorted: deterministic
  std::string text = training_text;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(' ', start);
    if (end == std::string::npos)
      end = text.size();
    if (end > start)
      ++counts[" " + text.substr(start, end - start)];
    start = end + 1;
  }
  std::vector<std::pair<word, int>> words;
  for (auto& [w, n] : counts) {
    word syms;
    for (char c : w)
      syms.emplace_back(1, c);
    words.emplace_back(std::move(syms), n);
  }
  while (pieces.size() < limit) {
    std::map<std::string, int> pairs;
    std::map<std::string, std::pair<std::string, std::string>> parts;
    for (auto& [syms, n] : words)
      for (size_t i = 0; i + 1 < syms.size(); ++i) {
        auto m = syms[i] + syms[i + 1];
        pairs[m] += n;
        parts.emplace(m, std::make_pair(syms[i], syms[i + 1]));
      }
    std::string best;
    int best_n = 1;
    for (auto& [m, n] : pairs)
      if (n > best_n && known.count(m) == 0) {
        best = m;
        best_n = n;
      }
    if (best.empty())
      return;
    auto [a, b] = parts[best];
    for (auto& [syms, n] : words) {
      word merged;
      for (size_t i = 0; i < syms.size(); ++i) {
        if (i + 1 < syms.size() && syms[i] == a && syms[i + 1] == b) {
          merged.push_back(best);
          ++i;
        } else {
          merged.push_back(syms[i]);
        }
      }
      syms = std::move(merged);
    }
    pieces.push_back(best);
    known.insert(best);
  }
}

} // namespace

tokenizer make_vocabulary(int32_t vocab_size, uint64_t seed) {
  std::vector<std::string> pieces{"<unk>", "<s>", "</s>"};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    pieces.emplace_back(buf);
  }
  for (char c = 32; c < 127; ++c)
    pieces.emplace_back(1, c);
  size_t base = pieces.size();
  std::unordered_set<std::string> known(pieces.begin(), pieces.end());
  size_t limit = vocab_size > 0 ? static_cast<size_t>(vocab_size) : 0;
  learn_merges(pieces, known, limit);
  // Filler merges: concatenations of two random non-byte tokens, at most
  // 16 bytes, until the vocabulary is full.
  splitmix64 rng{seed ^ 0x746f6b656e697aULL};
  size_t first = 259; // after the specials and byte tokens
  size_t attempts = 0;
  while (pieces.size() < limit && attempts < limit * 64) {
    ++attempts;
    auto n = pieces.size() - first;
    auto& a = pieces[first + rng.next() % n];
    auto& b = pieces[first + rng.next() % n];
    if (a.size() + b.size() > 16)
      continue;
    auto m = a + b;
    if (known.insert(m).second)
      pieces.push_back(std::move(m));
  }
  // Enumerated fillers if random pairs ran out (tiny alphabets only).
  for (size_t k = 0; pieces.size() < limit; ++k) {
    auto m = "<x" + std::to_string(k) + ">";
    if (known.insert(m).second)
      pieces.push_back(std::move(m));
  }
  pieces.resize(limit);
  std::vector<float> scores(pieces.size(), 0.0f);
  uint32_t max_len = 1;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i >= base)
      scores[i] = -static_cast<float>(i - base);
    max_len = std::max(max_len, static_cast<uint32_t>(pieces[i].size()));
  }
  return tokenizer{std::move(pieces), std::move(scores), max_len};
}

caf::error write_random_checkpoint(const std::string& path,
                                   const model_shape& s, uint64_t seed) {
  if (auto err = validate_shape(s, path))
    return err;
  if (checkpoint_bytes(s) == 0)
    return make_error(errc::invalid_config,
                      "checkpoint `" + path + "`: shape too large");
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  if (!out)
    return make_error(errc::invalid_config,
                      "checkpoint `" + path + "`: cannot create");
  int32_t hdr[7] = {s.dim,        s.hidden_dim,
                    s.n_layers,   s.n_heads,
                    s.n_kv_heads, s.shared_cls ? s.vocab_size : -s.vocab_size,
                    s.seq_len};
  out.write(reinterpret_cast<const char*>(hdr), sizeof(hdr));
  normal_source rnd{seed};
  std::vector<float> buf;
  auto put = [&](size_t n, float scale) {
    buf.resize(n);
    for (auto& x : buf)
      x = scale == 0 ? 1.0f : rnd.next() * scale;
    out.write(reinterpret_cast<const char*>(buf.data()),
              static_cast<std::streamsize>(n * sizeof(float)));
  };
  size_t d = s.dim, h = s.hidden_dim, l = s.n_layers, v = s.vocab_size;
  size_t kv = s.kv_dim();
  const float w = 0.02f;
  put(v * d, w);      // token_embedding
  put(l * d, 0);      // rms_att
  put(l * d * d, w);  // wq
  put(l * d * kv, w); // wk
  put(l * d * kv, w); // wv
  put(l * d * d, w);  // wo
  put(l * d, 0);      // rms_ffn
  put(l * d * h, w);  // w1
  put(l * h * d, w);  // w2
  put(l * d * h, w);  // w3
  put(d, 0);          // rms_final
  size_t hs = s.head_size();
  std::vector<float> re, im;
  for (size_t pos = 0; pos < size_t(s.seq_len); ++pos)
    for (size_t i = 0; i < hs; i += 2) {
      float freq = 1.0f / std::pow(10000.0f, float(i) / float(hs));
      re.push_back(std::cos(float(pos) * freq));
      im.push_back(std::sin(float(pos) * freq));
    }
  out.write(reinterpret_cast<const char*>(re.data()),
            static_cast<std::streamsize>(re.size() * sizeof(float)));
  out.write(reinterpret_cast<const char*>(im.data()),
            static_cast<std::streamsize>(im.size() * sizeof(float)));
  if (!s.shared_cls)
    put(v * d, w); // wcls
  out.close();
  if (!out)
    return make_error(errc::invalid_config,
                      "checkpoint `" + path + "`: write failed");
  return caf::none;
}

} // namespace dine
