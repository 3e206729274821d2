#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <caf/expected.hpp>

namespace dine {

/// A BPE vocabulary in llama2.c's `tokenizer.bin` format (docs/models.md),
/// encoding as llama2.c does: BOS (1), a dummy-prefix space, UTF-8
/// characters looked up, byte fallback (`<0xNN>` = byte + 3), then greedy
/// merges of the adjacent pair whose merged string scores best.
class tokenizer {
public:
  static constexpr int32_t bos = 1;
  static constexpr int32_t eos = 2;

  /// Reads `path`, checking every length against the bytes that remain.
  /// Errors are `invalid_config` naming the file and the problem.
  static caf::expected<tokenizer> load(const std::string& path);

  /// Builds a tokenizer from pieces and scores (tests, dine-mkmodel).
  tokenizer(std::vector<std::string> pieces, std::vector<float> scores,
            uint32_t max_token_length);

  tokenizer() = default;

  int32_t vocab_size() const { return static_cast<int32_t>(pieces_.size()); }
  uint32_t max_token_length() const { return max_token_length_; }
  const std::string& piece(int32_t id) const { return pieces_[id]; }
  float score(int32_t id) const { return scores_[id]; }

  /// Returns the id of `piece`, or -1.
  int32_t lookup(std::string_view piece) const;

  /// Encodes `text`, prefixed with BOS and (unless empty) a space.
  std::vector<int32_t> encode(std::string_view text) const;

  /// Returns the bytes of `token` following `prev`: the space after BOS
  /// is stripped and `<0xNN>` becomes the byte NN.
  std::string decode(int32_t prev, int32_t token) const;

  /// Writes the tokenizer to `path` in `tokenizer.bin` format.
  caf::error save(const std::string& path) const;

private:
  void index();

  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  uint32_t max_token_length_ = 0;
  std::unordered_map<std::string, int32_t> ids_;
  int32_t space_ = -1; ///< The id of " ", the dummy prefix.
};

/// Checks that `tok` fits a checkpoint of `vocab_size` tokens.
caf::error check_vocab(const tokenizer& tok, int32_t vocab_size,
                       const std::string& tokenizer_path);

} // namespace dine
