#pragma once

// node_link: the connect / backoff / monitor / reconnect loop that every
// link to another node shares (registrar, worker_link, cache_link).
//
// Not an actor: a member of a link actor's state that runs on that actor.
// `connect` (the actor's `(join)` handler) asks the middleman for the actor
// published at HOST:PORT (actors/peer.hpp) and hands it to the owner's
// handshake, which ends with `up(handle)` (the handle to keep and monitor,
// e.g. the worker a worker endpoint names) or `failed(why)`. A failed
// attempt is logged with its reason and the next delay, and `(join)` is
// sent again after the backoff (runtime/backoff.hpp: 20 ms doubling, capped
// at `reconnect-max-ms`). `on_down` notices the loss of the monitored
// handle (process gone: at once; frozen: after the middleman's connection
// timeout), logs it and reconnects. The decisions live in
// runtime/reconnect_state.hpp.

#include <caf/actor_ostream.hpp>
#include <caf/system_messages.hpp>

#include <string>
#include <utility>

#include "actors/link/peer.hpp"
#include "messages/interfaces.hpp"
#include "runtime/reconnect_state.hpp"

namespace dine {

/// A link from the owning actor to the remote actor at `host:port`, kept as
/// a `Handle` while connected.
template <class Handle>
class node_link {
public:
  node_link() = default;

  /// A link named `name` in its log lines, retrying after `retry`'s delays.
  node_link(std::string name, std::string host, uint16_t port, backoff retry)
      : name_(std::move(name)), host_(std::move(host)), port_(port),
        where_(host_ + ":" + std::to_string(port)), state_(retry) {
    // nop
  }

  /// The handle while connected, else null.
  const Handle& handle() const noexcept { return handle_; }

  /// `host:port`.
  const std::string& where() const noexcept { return where_; }

  /// The reconnect decisions.
  const reconnect_state& state() const noexcept { return state_; }

  /// Starts a connect attempt unless one runs, the peer is connected or
  /// the link stopped. Calls `reached(target)` with the non-null `Target`
  /// published at `where()`; `reached` must end with `up` or `failed`.
  template <class Target, class Self, class Reached>
  void connect(Self* self, Reached reached) {
    if (!state_.begin())
      return;
    connect_to<Target>(
        self, host_, port_,
        [this, self, reached](Target t) mutable {
          if (!t)
            failed(self, where_ + " publishes no actor");
          else
            reached(std::move(t));
        },
        [this, self](const caf::error& err) {
          failed(self, "cannot reach " + where_ + ": " + caf::to_string(err));
        });
  }

  /// Keeps and monitors `h`; logs the end of an outage.
  template <class Self>
  void up(Self* self, Handle h) {
    if (state_.up())
      caf::aout(self) << name_ << ": connected to " << where_ << std::endl;
    handle_ = std::move(h);
    self->monitor(handle_);
  }

  /// The running attempt failed for `why`: logs it with the next delay and
  /// sends `(join)` to `self` after that delay (unless the link stopped).
  template <class Self>
  void failed(Self* self, const std::string& why) {
    auto delay = state_.failed();
    caf::aout(self) << retry_message(name_, why, delay) << std::endl;
    if (delay)
      self->delayed_send(self, *delay, join_atom::value);
  }

  /// Handles a `down_msg`: returns false if it is not about the handle;
  /// otherwise forgets the handle, logs the loss and reconnects after the
  /// first delay (unless the link stopped).
  template <class Self>
  bool on_down(Self* self, const caf::down_msg& dm) {
    if (!handle_ || dm.source != handle_.address())
      return false;
    handle_ = nullptr;
    auto delay = state_.lost();
    caf::aout(self) << retry_message(name_,
                                     "lost " + where_ + " (" +
                                         caf::to_string(dm.reason) + ")",
                                     delay)
                    << std::endl;
    if (delay)
      self->delayed_send(self, *delay, join_atom::value);
    return true;
  }

  /// Whether the link knows where to connect (a worker following an etcd
  /// cluster's leader does not until the leader watch told it).
  bool targeted() const noexcept { return port_ != 0 && !host_.empty(); }

  /// Points the link at `host:port` (a new leader): a link connected
  /// elsewhere drops its handle; either way it connects there now. Returns
  /// false if it was pointed there already.
  template <class Self>
  bool retarget(Self* self, const std::string& host, uint16_t port) {
    if (host == host_ && port == port_)
      return false;
    host_ = host;
    port_ = port;
    where_ = host_ + ":" + std::to_string(port_);
    if (handle_) {
      self->demonitor(handle_.address());
      handle_ = nullptr;
      state_.lost();
    }
    caf::aout(self) << name_ << ": following the leader to " << where_
                    << std::endl;
    self->send(self, join_atom::value);
    return true;
  }

  /// Never connects again (a draining worker).
  void stop() noexcept { state_.stop(); }

private:
  std::string name_;
  std::string host_;
  uint16_t port_ = 0;
  std::string where_;
  reconnect_state state_;
  Handle handle_;
};

} // namespace dine
