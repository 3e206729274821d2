#pragma once

// The decisions of one link to a remote actor (actors/node_link.hpp), as
// plain C++: whether a connect attempt may start, how long to wait after a
// failed one or after losing the peer, and whether the link gave up for
// good. The link actor executes them (timers, monitors, logging).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/backoff.hpp"

namespace dine {

/// Where one link to a remote actor is between connects, and its backoff.
class reconnect_state {
public:
  using duration = backoff::duration;

  /// A link that retries after `retry`'s delays.
  explicit reconnect_state(backoff retry = backoff{}) : retry_(retry) {
    // nop
  }

  /// Starts a connect attempt unless one is running, the peer is
  /// connected or the link stopped; returns whether it started.
  bool begin() noexcept;

  /// The running attempt failed. Returns the delay before the next one, or
  /// nothing once the link stopped.
  std::optional<duration> failed() noexcept;

  /// The running attempt (or the one of a handle known at start) connected
  /// the peer: the backoff starts over. Returns whether attempts had failed
  /// since the last success, i.e. whether this ends an outage.
  bool up() noexcept;

  /// The connected peer went away: the backoff starts over. Returns the
  /// delay before the first attempt to reconnect, or nothing once the link
  /// stopped.
  std::optional<duration> lost() noexcept;

  /// Never starts another attempt (e.g. a draining worker).
  void stop() noexcept { stopped_ = true; }

  /// Returns whether the peer is connected.
  bool connected() const noexcept { return connected_; }

  /// Returns whether an attempt is running.
  bool connecting() const noexcept { return connecting_; }

  /// Returns whether the link stopped.
  bool stopped() const noexcept { return stopped_; }

  /// Failed attempts since the last success.
  uint32_t failures() const noexcept { return failures_; }

private:
  backoff retry_;
  bool connecting_ = false;
  bool connected_ = false;
  bool stopped_ = false;
  uint32_t failures_ = 0;
};

/// The line a link logs after a failed attempt: `"<who>: <why>; retrying in
/// <delay> ms"`, or `"<who>: <why>; not retrying"` without a delay.
std::string retry_message(std::string_view who, std::string_view why,
                          std::optional<backoff::duration> delay);

} // namespace dine
