#include "runtime/slow_client.hpp"

namespace dine {

const char* to_string(slow_verdict x) {
  switch (x) {
  case slow_verdict::keep:
    return "keep";
  case slow_verdict::handshake:
    return "handshake";
  case slow_verdict::frame:
    return "frame";
  }
  return "keep";
}

slow_client::slow_client(int64_t handshake, int64_t frame, bool tls,
                         int64_t now)
    : handshake_(handshake), frame_(frame), opened_(now),
      handshake_pending_(tls && handshake > 0) {
  // nop
}

slow_verdict slow_client::check(int64_t now) const noexcept {
  if (handshake_pending_ && now - opened_ >= handshake_)
    return slow_verdict::handshake;
  if (!suspended_ && frame_ > 0 && partial_since_ != 0 &&
      now - partial_since_ >= frame_)
    return slow_verdict::frame;
  return slow_verdict::keep;
}

int64_t slow_client::next_check() const noexcept {
  int64_t at = 0;
  if (handshake_pending_)
    at = opened_ + handshake_;
  if (!suspended_ && frame_ > 0 && partial_since_ != 0) {
    auto f = partial_since_ + frame_;
    if (at == 0 || f < at)
      at = f;
  }
  return at;
}

} // namespace dine
