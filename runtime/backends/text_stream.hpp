#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dine {

/// Turns the bytes of generated tokens into event text: only valid UTF-8
/// leaves (an incomplete multi-byte character waits for its next bytes,
/// invalid bytes become U+FFFD), and text that may be the start of a stop
/// string is held back until it is known not to be one.
class text_stream {
public:
  explicit text_stream(std::vector<std::string> stop = {})
      : stop_(std::move(stop)) {
    // nop
  }

  /// Appends the bytes of one token. Returns true if a stop string now
  /// occurs: the text is cut before it.
  bool push(std::string_view bytes);

  /// Returns the text that may be sent now and marks it sent.
  std::string take();

  /// Ends the stream: pending bytes of an incomplete character become
  /// U+FFFD and nothing is held back. Returns the rest of the text.
  std::string finish();

  /// All text so far (sent or not), valid UTF-8.
  const std::string& text() const { return text_; }

private:
  /// Moves complete characters from `pending_` to `text_`.
  void drain(bool final);

  std::vector<std::string> stop_;
  std::string pending_; ///< Bytes of an incomplete character.
  std::string text_;    ///< Valid UTF-8, stop-cut.
  size_t sent_ = 0;     ///< Bytes of `text_` already taken.
  bool stopped_ = false;
};

} // namespace dine
