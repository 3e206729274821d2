#pragma once

// The load generator's engine: ONE thread, epoll, non-blocking sockets.
// Every request occupies a slot (connection x depth); its id carries the
// slot index in the low bits and a sequence number above, so a reply is
// matched with one mask and one compare. Closed loop: a freed slot is
// refilled at once. Open loop (`--rate`): `pace` sends at Poisson arrival
// times woken by a timerfd, round-robin over the connections; a request's
// latency counts from its scheduled time, and an arrival that finds its
// connection's slots all busy is dropped (counted, not sent).

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "histogram.hpp"
#include "options.hpp"
#include "requests.hpp"
#include "runtime/frame.hpp"

namespace dine::bench {

/// What one phase of a run measured.
struct run_result {
  uint64_t sent = 0;
  uint64_t replies = 0; ///< Replies matched to a request (ok or error).
  uint64_t ok = 0;
  uint64_t lost = 0;    ///< Unanswered within the timeout or on a failed
                        ///< connection.
  uint64_t late = 0;    ///< Replies that arrived after being counted lost.
  uint64_t dropped = 0; ///< Open loop: arrivals not sent (depth cap).
  std::map<std::string, uint64_t> errors; ///< By code, incl. "bad_reply".
  double seconds = 0;      ///< Start of the phase to its last reply.
  double wall_seconds = 0; ///< Start of the phase to its end.
  double cpu_seconds = 0;  ///< CPU time of this process during the phase.
  histogram latency;       ///< Nanoseconds, send (open loop: scheduled send) to
                           ///< reply read.
  std::string failure;     ///< The first connection failure, if any.
  /// `--stages`: the server's per-stage timings of the ok replies, in
  /// nanoseconds, in the order of `stage_names` (the last is `total`).
  std::vector<histogram> stages;
};

/// Names of `run_result::stages`.
extern const char* const stage_names[9];

/// When a phase stops sending.
struct phase_limit {
  uint64_t requests = 0; ///< 0 = no limit.
  double seconds = 0;    ///< 0 = no limit.
};

/// Drives `connections x depth` requests in flight over epoll.
class load_loop {
public:
  load_loop(const options& opts, std::vector<request_template> templates);

  ~load_loop();

  load_loop(const load_loop&) = delete;
  load_loop& operator=(const load_loop&) = delete;

  /// Opens all connections. Returns an empty string or an error message.
  std::string connect();

  /// Runs one phase until `limit` is reached and every request sent in it
  /// is answered or lost. Connections stay open for the next phase.
  void run(const phase_limit& limit, run_result& out);

private:
  struct slot {
    uint64_t id = 0; ///< 0 = free.
    int64_t sent_ns = 0;
  };

  struct connection {
    int fd = -1;
    SSL* ssl = nullptr; ///< `--tls`: the session on `fd`.
    size_t index = 0;
    frame_reader reader;
    std::vector<char> out;
    size_t out_off = 0;
    std::vector<uint32_t> free_slots;
    bool want_out = false;
    bool dead = false;
  };

  bool may_send(int64_t now) const noexcept {
    if (open_)
      return sending_ &&
             (limit_.requests == 0 || sent_ + dropped_ < limit_.requests) &&
             next_send_ns_ < end_ns_;
    return sending_ && (limit_.requests == 0 || sent_ < limit_.requests) &&
           now < end_ns_;
  }

  /// Returns the time to the next Poisson arrival.
  int64_t next_gap() { return std::llround(gap_(rng_)); }

  /// Open loop: sends every arrival due by `now`.
  void pace(int64_t now);

  /// Open loop: sets the timerfd to fire at `next_send_ns_`.
  void arm_timer();

  /// Appends one request for slot `s` scheduled at `sent_ns` to `c.out`.
  void send_one(connection& c, uint32_t s, int64_t sent_ns);

  void refill(connection& c, int64_t now);
  void flush(connection& c);
  void on_readable(connection& c);
  void on_frame(connection& c, const char* body, size_t size, int64_t now);
  void fail(connection& c, const std::string& why);
  void sweep(int64_t now);
  void progress(int64_t now);

  const options& opts_;
  std::vector<request_template> templates_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1; ///< Open loop only.
  bool open_ = false;
  std::mt19937_64 rng_;
  std::exponential_distribution<double> gap_; ///< In nanoseconds.
  size_t rr_ = 0;             ///< Next connection for an arrival.
  std::vector<size_t> dirty_; ///< Connections written by `pace`.
  int64_t armed_ns_ = 0;
  std::vector<connection> conns_;
  size_t live_ = 0;
  std::vector<slot> slots_;
  uint32_t slot_bits_ = 1;
  uint64_t slot_mask_ = 1;
  uint64_t seq_ = 0;
  size_t busy_ = 0;
  std::unordered_set<uint64_t> lost_ids_;
  std::vector<char> rbuf_;
  // State of the running phase.
  phase_limit limit_;
  run_result* res_ = nullptr;
  bool sending_ = false;
  uint64_t sent_ = 0;
  uint64_t dropped_ = 0;
  int64_t next_send_ns_ = 0; ///< Open loop: the next arrival.
  int64_t start_ns_ = 0;
  int64_t end_ns_ = 0;
  int64_t last_reply_ns_ = 0;
  int64_t next_progress_ns_ = 0;
  int64_t last_progress_ns_ = 0;
  uint64_t progress_replies_ = 0;
};

/// Returns CLOCK_MONOTONIC in nanoseconds.
int64_t now_ns() noexcept;

} // namespace dine::bench
