#include "runtime/backends/text_stream.hpp"

#include <cstdint>

namespace dine {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD

/// Returns the length of the UTF-8 character that `lead` starts (2-4), 1
/// for ASCII, or 0 for a byte that cannot start one.
size_t char_length(uint8_t lead) {
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 0;
}

/// Returns whether byte `i` (>= 1) of a character led by `lead` is valid
/// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
bool valid_continuation(uint8_t lead, size_t i, uint8_t b) {
  if ((b & 0xC0) != 0x80)
    return false;
  if (i != 1)
    return true;
  switch (lead) {
  case 0xE0:
    return b >= 0xA0;
  case 0xED:
    return b < 0xA0;
  case 0xF0:
    return b >= 0x90;
  case 0xF4:
    return b < 0x90;
  default:
    return true;
  }
}

} // namespace

void text_stream::drain(bool final) {
  size_t i = 0;
  while (i < pending_.size()) {
    auto lead = static_cast<uint8_t>(pending_[i]);
    size_t n = char_length(lead);
    if (n == 0) {
      text_ += replacement;
      ++i;
      continue;
    }
    size_t j = 1;
    while (j < n && i + j < pending_.size() &&
           valid_continuation(lead, j, static_cast<uint8_t>(pending_[i + j])))
      ++j;
    if (j == n) {
      text_.append(pending_, i, n);
      i += n;
    } else if (i + j == pending_.size() && !final) {
      break; // incomplete so far: wait for the next token's bytes
    } else {
      text_ += replacement; // a broken character: one U+FFFD for its prefix
      i += j;
    }
  }
  pending_.erase(0, i);
}

bool text_stream::push(std::string_view bytes) {
  if (stopped_)
    return true;
  pending_.append(bytes.data(), bytes.size());
  drain(false);
  // A stop string cannot start before `sent_`: text that could begin one
  // was held back.
  size_t cut = std::string::npos;
  for (auto& s : stop_) {
    auto at = text_.find(s, sent_ > s.size() ? sent_ - s.size() : 0);
    if (at != std::string::npos && at < cut)
      cut = at;
  }
  if (cut != std::string::npos) {
    text_.resize(cut);
    pending_.clear();
    stopped_ = true;
  }
  return stopped_;
}

std::string text_stream::take() {
  size_t end = text_.size();
  if (!stopped_) {
    // Hold back the longest suffix that is a proper prefix of a stop string.
    size_t hold = 0;
    for (auto& s : stop_)
      for (size_t k = std::min(s.size() - 1, end - sent_); k > hold; --k)
        if (text_.compare(end - k, k, s, 0, k) == 0) {
          hold = k;
          break;
        }
    end -= hold;
  }
  if (end <= sent_)
    return {};
  auto out = text_.substr(sent_, end - sent_);
  sent_ = end;
  return out;
}

std::string text_stream::finish() {
  if (!stopped_)
    drain(true);
  stopped_ = true;
  return take();
}

} // namespace dine
