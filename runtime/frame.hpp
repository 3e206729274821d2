#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace dine {

/// The default maximum frame body size: 16 MiB.
constexpr uint32_t default_max_frame = 16u * 1024u * 1024u;

/// Splits a byte stream of frames (`[u32 big-endian length][body]`) into
/// bodies. Complete frames are handed out in place from the input; only a
/// partial frame at the end of a read is copied and kept. A length is
/// checked against the maximum as soon as its four bytes arrived, and no
/// buffer is ever sized from a length: the pending buffer holds only bytes
/// that really arrived.
class frame_reader {
public:
  explicit frame_reader(uint32_t max_frame = default_max_frame)
      : max_frame_(max_frame) {
    // nop
  }

  /// Calls `f(body, len)` for every complete frame in the stream after
  /// appending `[p, p + n)`. Returns false when a length prefix exceeds the
  /// maximum: the stream cannot be resynchronized and must be closed.
  template <class F>
  bool consume(const char* p, size_t n, F&& f) {
    if (pending_.empty()) {
      auto used = split(p, n, f);
      if (used < 0)
        return false;
      pending_.assign(p + used, p + n);
      return true;
    }
    pending_.insert(pending_.end(), p, p + n);
    auto used = split(pending_.data(), pending_.size(), f);
    if (used < 0)
      return false;
    pending_.erase(pending_.begin(), pending_.begin() + used);
    return true;
  }

  /// Returns how many bytes of an incomplete frame are buffered.
  size_t buffered() const noexcept { return pending_.size(); }

  /// Returns the length of the frame that exceeded the limit, if any.
  uint32_t rejected_length() const noexcept { return rejected_; }

private:
  template <class F>
  long split(const char* p, size_t n, F& f) {
    size_t off = 0;
    while (n - off >= 4) {
      uint32_t len;
      memcpy(&len, p + off, 4);
      len = ntohl(len);
      if (len > max_frame_) {
        rejected_ = len;
        return -1;
      }
      if (n - off - 4 < len)
        break;
      f(p + off + 4, static_cast<size_t>(len));
      off += 4 + len;
    }
    return static_cast<long>(off);
  }

  uint32_t max_frame_;
  uint32_t rejected_ = 0;
  std::vector<char> pending_;
};

/// Appends a 4-byte placeholder for a length prefix; returns its offset.
inline size_t begin_frame(std::vector<char>& buf) {
  auto off = buf.size();
  buf.resize(off + 4);
  return off;
}

/// Patches the length prefix written by `begin_frame`.
inline void end_frame(std::vector<char>& buf, size_t off) {
  auto len = htonl(static_cast<uint32_t>(buf.size() - off - 4));
  memcpy(buf.data() + off, &len, 4);
}

} // namespace dine
