#pragma once

// The coordinator's reply side (docs/design.md, "The path of a request"): final
// replies recorded, logged and collected per connection, coalesced
// followers settled, streams finished or cancelled. Internal to the
// coordinator's files.

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "actors/coordinator/coordinator.hpp"

namespace dine::coordinator_detail {

using self_ptr = coordinator_actor::stateful_pointer<coordinator_state>;
using clock = coordinator_state::clock;

/// Collects replies per connection, then sends one message to each.
class reply_sink {
public:
  /// `hint`: how many replies one connection may get (a reserve).
  explicit reply_sink(size_t hint = 0) : hint_(std::min(hint, size_t{256})) {
    // nop
  }

  /// Adds `r` for `conn`.
  void add(const connection_actor& conn, client_reply&& r) {
    for (auto& [c, rs] : out_)
      if (c == conn) {
        rs.push_back(std::move(r));
        return;
      }
    out_.emplace_back(conn, std::vector<client_reply>{});
    out_.back().second.reserve(hint_);
    out_.back().second.push_back(std::move(r));
  }

  /// Sends each connection its replies, one message each.
  void flush(self_ptr self) {
    for (auto& [c, rs] : out_)
      self->send(c, std::move(rs));
    out_.clear();
  }

private:
  size_t hint_;
  std::vector<std::pair<connection_actor, std::vector<client_reply>>> out_;
};

/// Microseconds from `t` to `now`, saturated to uint32.
uint32_t micros_since(clock::time_point t, clock::time_point now);

/// Records and (when sampled or failed) logs the final reply `r` of a
/// request of `model`.
void record(coordinator_state& st, const std::string& model,
            const client_reply& r);

/// Records a final reply in the live window and, if it failed, in the
/// recent errors.
void note_final(coordinator_state& st, const std::string& model,
                uint64_t total_us, uint8_t code, const std::string& message,
                clock::time_point now);

/// Makes `r` the last frame of the stream `e`, with its token timings.
void finish_stream(const coordinator_state::entry& e, client_reply& r,
                   clock::time_point now);

/// Stops the sequence of stream `rid` wherever it runs.
void stop_stream(self_ptr self, uint64_t rid, const std::string& model);

/// Ends stream `rid` at once (`finish_reason: cancelled`); false if it is
/// not in flight.
bool cancel_stream(self_ptr self, reply_sink* sink, uint64_t rid,
                   clock::time_point now);

/// Answers request `rid` with its final reply `r` if still in flight.
void answer(self_ptr self, reply_sink& sink, uint64_t rid, client_reply r,
            clock::time_point now);

/// Shares the leader's result with its followers, or promotes the oldest
/// follower (into `reroute`) when there is no result to share.
void settle_followers(self_ptr self, reply_sink& sink, const std::string& key,
                      uint64_t leader, const client_reply* result,
                      std::vector<client_request>& reroute,
                      clock::time_point now);

} // namespace dine::coordinator_detail
