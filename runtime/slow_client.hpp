#pragma once

// slow_client: decides when a client connection that is too slow is closed
// (docs/security.md, "Slow clients"): a TLS handshake that has not finished
// `handshake` after the connection opened, and a frame whose first byte
// arrived more than `frame` ago and that is still incomplete (a slowloris
// client sends a partial frame, then a byte now and then, or nothing).
// Idle connections with no partial frame are kept: they hold a few hundred
// bytes and count against `max-connections`.
// Time is given by the caller (nanoseconds of any steady clock; the client
// listener passes the read marks it takes anyway), so the class reads no
// clock and is tested on an injected one. One object per connection; no
// work per request, one comparison per read.

#include <cstdint>

namespace dine {

/// Why `slow_client::check` wants a connection closed.
enum class slow_verdict : uint8_t {
  keep,      ///< Nothing overdue.
  handshake, ///< The TLS handshake did not finish in time.
  frame,     ///< A partial frame did not complete in time.
};

/// Returns `"keep"`, `"handshake"` or `"frame"`.
const char* to_string(slow_verdict x);

/// The timing state of one client connection.
class slow_client {
public:
  /// Bounds in nanoseconds; 0 turns a check off. `tls`: the connection
  /// starts with a handshake. `now`: when it opened.
  slow_client(int64_t handshake, int64_t frame, bool tls, int64_t now);

  /// The handshake finished (or the connection speaks plaintext).
  void handshake_done() noexcept { handshake_pending_ = false; }

  /// Returns whether the handshake still runs.
  bool handshake_pending() const noexcept { return handshake_pending_; }

  /// A read at `now` was decoded; `partial`: bytes of an incomplete frame
  /// are buffered after it. A frame's clock starts at the read that left
  /// it incomplete and runs until a read leaves nothing buffered.
  void on_read(bool partial, int64_t now) noexcept {
    if (!partial)
      partial_since_ = 0;
    else if (partial_since_ == 0)
      partial_since_ = now;
  }

  /// Reading stopped (backpressure): a partial frame is the node's doing,
  /// not the client's, until `resume`.
  void suspend() noexcept { suspended_ = true; }

  /// Reading resumed at `now`: a partial frame's clock starts again.
  void resume(bool partial, int64_t now) noexcept {
    suspended_ = false;
    partial_since_ = partial ? now : 0;
  }

  /// Returns whether the connection must close at `now`, and why.
  slow_verdict check(int64_t now) const noexcept;

  /// Returns when `check` may next say something other than `keep` (0:
  /// never, until the next read or resume).
  int64_t next_check() const noexcept;

private:
  int64_t handshake_;
  int64_t frame_;
  int64_t opened_;
  int64_t partial_since_ = 0; ///< 0: no partial frame.
  bool handshake_pending_;
  bool suspended_ = false;
};

} // namespace dine
