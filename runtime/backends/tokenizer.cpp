#include "runtime/backends/tokenizer.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <queue>

#include "messages/errc.hpp"

namespace dine {

namespace {

caf::error bad(const std::string& path, const std::string& what) {
  return make_error(errc::invalid_config, "tokenizer `" + path + "`: " + what);
}

constexpr uint32_t max_piece_length = 1 << 16;

/// Returns the byte NN of a piece `<0xNN>`, or -1.
int byte_piece(const std::string& p) {
  unsigned x = 0;
  if (p.size() == 6 && p[0] == '<' && p[1] == '0' && p[2] == 'x' &&
      p[5] == '>' && std::sscanf(p.c_str(), "<0x%02X>", &x) == 1)
    return static_cast<int>(x);
  return -1;
}

} // namespace

tokenizer::tokenizer(std::vector<std::string> pieces, std::vector<float> scores,
                     uint32_t max_token_length)
    : pieces_(std::move(pieces)), scores_(std::move(scores)),
      max_token_length_(max_token_length) {
  index();
}

void tokenizer::index() {
  // The header's max_token_length is not trusted: the real maximum bounds
  // prompt lengths (docs/models.md).
  for (auto& p : pieces_)
    if (p.size() > max_token_length_)
      max_token_length_ = static_cast<uint32_t>(p.size());
  ids_.clear();
  ids_.reserve(pieces_.size());
  // The first occurrence wins, as with llama2.c's sorted lookup of a
  // vocabulary without duplicates.
  for (size_t i = 0; i < pieces_.size(); ++i)
    ids_.emplace(pieces_[i], static_cast<int32_t>(i));
  space_ = lookup(" ");
}

caf::expected<tokenizer> tokenizer::load(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return bad(path, "cannot open");
  std::vector<char> buf{std::istreambuf_iterator<char>{in},
                        std::istreambuf_iterator<char>{}};
  size_t pos = 0;
  auto read_raw = [&](void* dst, size_t n) {
    if (buf.size() - pos < n)
      return false;
    std::memcpy(dst, buf.data() + pos, n);
    pos += n;
    return true;
  };
  int32_t max_len = 0;
  if (!read_raw(&max_len, 4))
    return bad(path, "truncated header");
  if (max_len <= 0 || static_cast<uint32_t>(max_len) > max_piece_length)
    return bad(path, "max_token_length " + std::to_string(max_len) +
                         " outside 1.." + std::to_string(max_piece_length));
  std::vector<std::string> pieces;
  std::vector<float> scores;
  while (pos < buf.size()) {
    float score = 0;
    int32_t len = 0;
    if (!read_raw(&score, 4) || !read_raw(&len, 4))
      return bad(path, "token " + std::to_string(pieces.size()) +
                           ": truncated entry");
    if (len < 0 || static_cast<size_t>(len) > buf.size() - pos)
      return bad(path, "token " + std::to_string(pieces.size()) + ": length " +
                           std::to_string(len) + " exceeds the remaining " +
                           std::to_string(buf.size() - pos) + " bytes");
    pieces.emplace_back(buf.data() + pos, static_cast<size_t>(len));
    scores.push_back(score);
    pos += static_cast<size_t>(len);
  }
  if (pieces.size() < 3)
    return bad(path, "holds " + std::to_string(pieces.size()) +
                         " tokens, fewer than the special tokens 0-2");
  return tokenizer{std::move(pieces), std::move(scores),
                   static_cast<uint32_t>(max_len)};
}

caf::error tokenizer::save(const std::string& path) const {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  auto put = [&out](const void* p, size_t n) {
    out.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
  };
  int32_t max_len = static_cast<int32_t>(max_token_length_);
  put(&max_len, 4);
  for (size_t i = 0; i < pieces_.size(); ++i) {
    int32_t len = static_cast<int32_t>(pieces_[i].size());
    put(&scores_[i], 4);
    put(&len, 4);
    put(pieces_[i].data(), pieces_[i].size());
  }
  out.close();
  if (!out)
    return bad(path, "write failed");
  return caf::none;
}

int32_t tokenizer::lookup(std::string_view piece) const {
  auto i = ids_.find(std::string{piece});
  return i == ids_.end() ? -1 : i->second;
}

std::vector<int32_t> tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> syms;
  syms.reserve(text.size() + 2);
  if (!text.empty() && space_ >= 0)
    syms.push_back(space_);
  // UTF-8 characters (a lead byte and up to 3 continuation bytes) as
  // llama2.c splits them, or their bytes when the vocabulary lacks them.
  for (size_t i = 0; i < text.size();) {
    size_t n = 1;
    while (i + n < text.size() && n < 4 &&
           (static_cast<uint8_t>(text[i + n]) & 0xC0) == 0x80)
      ++n;
    auto id = lookup(text.substr(i, n));
    if (id >= 0) {
      syms.push_back(id);
    } else {
      for (size_t j = 0; j < n; ++j) {
        int32_t b = static_cast<uint8_t>(text[i + j]) + 3;
        syms.push_back(b < vocab_size() ? b : 0); // 0 = <unk>
      }
    }
    i += n;
  }
  // Greedy merges: always the best-scoring adjacent pair, the leftmost on
  // ties (llama2.c's order), found with a heap over a linked list instead
  // of llama2.c's quadratic rescans.
  size_t n = syms.size();
  std::vector<int32_t> next(n), prev(n), version(n, 0);
  for (size_t i = 0; i < n; ++i) {
    next[i] = static_cast<int32_t>(i + 1 < n ? i + 1 : -1);
    prev[i] = static_cast<int32_t>(i) - 1;
  }
  struct cand {
    float score;
    int32_t left;
    int32_t right;
    int32_t id;
    int32_t vl, vr; // versions of left and right when queued
    bool operator<(const cand& o) const {
      if (score != o.score)
        return score < o.score;
      return left > o.left;
    }
  };
  std::priority_queue<cand> heap;
  std::string tmp;
  auto push = [&](int32_t l) {
    if (l < 0 || next[l] < 0)
      return;
    int32_t r = next[l];
    tmp = pieces_[syms[l]];
    tmp += pieces_[syms[r]];
    auto id = lookup(tmp);
    if (id >= 0)
      heap.push(cand{scores_[id], l, r, id, version[l], version[r]});
  };
  for (size_t i = 0; i + 1 < n; ++i)
    push(static_cast<int32_t>(i));
  while (!heap.empty()) {
    auto c = heap.top();
    heap.pop();
    if (version[c.left] != c.vl || version[c.right] != c.vr ||
        next[c.left] != c.right || syms[c.left] < 0 || syms[c.right] < 0)
      continue;
    syms[c.left] = c.id;
    ++version[c.left];
    syms[c.right] = -1;
    ++version[c.right];
    next[c.left] = next[c.right];
    if (next[c.left] >= 0)
      prev[next[c.left]] = c.left;
    push(prev[c.left]);
    push(c.left);
  }
  std::vector<int32_t> out;
  out.reserve(n + 1);
  out.push_back(bos);
  for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = next[i])
    out.push_back(syms[i]);
  return out;
}

std::string tokenizer::decode(int32_t prev, int32_t token) const {
  if (token < 0 || token >= vocab_size())
    return {};
  const auto& p = pieces_[token];
  auto b = byte_piece(p);
  if (b >= 0)
    return std::string(1, static_cast<char>(b));
  if (prev == bos && !p.empty() && p[0] == ' ')
    return p.substr(1);
  return p;
}

caf::error check_vocab(const tokenizer& tok, int32_t vocab_size,
                       const std::string& tokenizer_path) {
  if (tok.vocab_size() != vocab_size)
    return bad(tokenizer_path, "holds " + std::to_string(tok.vocab_size()) +
                                   " tokens, the checkpoint's vocabulary has " +
                                   std::to_string(vocab_size));
  return caf::none;
}

} // namespace dine
