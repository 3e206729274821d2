#pragma once

// The load client of dine-chaos: one thread, epoll, non-blocking sockets.
// Sends infer requests with unique ids (id = index in the record table + 1)
// and inputs {"i": id}, open loop at a rate or closed loop at a depth, and
// records for every id when it was sent and what came back. Connections
// that drop are reopened after a pause, to whatever address `resolve`
// returns then (a restarted coordinator may have a new port).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace dine::chaos {

/// What became of one request.
enum class outcome : uint8_t {
  pending,      ///< No reply yet (becomes `lost` at the end).
  ok,           ///< An ok reply.
  error,        ///< An error reply (`code` says which).
  disconnected, ///< Its connection dropped before a reply.
  lost,         ///< No reply though its connection stayed open.
  unsent,       ///< Open loop: no connection could take it.
};

/// One request. Times in nanoseconds since the run's start.
struct request_record {
  int64_t sent_ns = 0;
  int64_t done_ns = -1; ///< First reply or the drop; -1 = none.
  outcome result = outcome::pending;
  uint8_t code = 0;     ///< `errc` of an error reply.
  uint16_t worker = 0;  ///< Index into `load_result::workers`.
  uint16_t replies = 0; ///< More than one = duplicated.
  uint32_t conn = 0;
  /// An ok reply whose outputs are not the model's function of the inputs
  /// (checked for echo, cost and sleep).
  bool wrong_output = false;
};

/// A connection going down or coming up.
struct conn_event {
  int64_t at_ns = 0;
  uint32_t conn = 0;
  bool up = false;
  std::string what; ///< Address when up, reason when down.
};

/// Parameters of the load (from the scenario's `load` line).
struct load_settings {
  std::string model;
  size_t connections = 1;
  size_t depth = 1; ///< Closed loop: in flight; open loop: cap.
  double rate = 0;  ///< Requests/s; 0 = closed loop.
  int64_t duration_ns = 0;
  uint32_t deadline_ms = 0;
  bool cache = false;
  int64_t grace_ns = 0; ///< After `duration_ns`, wait this long at most.
  /// Once every request has its reply, keep reading until no reply came
  /// for this long (longer than the deadline), so that late duplicates are
  /// seen; bounded by `grace_ns` + `quiet_ns` after `duration_ns`.
  int64_t quiet_ns = 0;
  int64_t reconnect_ns = 100000000;
};

/// Everything the load recorded.
struct load_result {
  std::vector<request_record> requests; ///< Request id = index + 1.
  std::vector<std::string> workers;     ///< [0] = "" (no worker).
  std::vector<conn_event> events;
  uint64_t unknown_replies = 0; ///< Ids never sent on that connection.
  uint64_t bad_replies = 0;     ///< Frames that are no reply.
  uint64_t late_duplicates = 0; ///< Duplicates read in the quiet period.
  int64_t end_ns = 0;           ///< When the load stopped.
};

/// Returns `HOST:PORT` of the target now, or "" when it is down.
/// Called from the load thread: must be thread-safe.
using resolve_fn = std::function<std::string()>;

/// Runs the load on its own thread.
class load_client {
public:
  load_client(load_settings cfg, resolve_fn resolve);

  ~load_client();

  load_client(const load_client&) = delete;
  load_client& operator=(const load_client&) = delete;

  /// Opens every connection before the load starts (blocking, up to
  /// `timeout_ms`). Returns "" or what failed; connections that failed
  /// are retried by the load thread.
  std::string connect_all(int64_t timeout_ms);

  /// Starts the thread; `t0_ns` (steady clock) is the load's time zero.
  void start(int64_t t0_ns);

  /// Asks the thread to stop now (on SIGINT/SIGTERM).
  void abort() noexcept { abort_ = true; }

  /// Returns whether the load finished (sending and grace are over).
  bool done() const noexcept { return done_; }

  /// Waits for the thread and returns what it recorded.
  load_result join();

private:
  struct connection;

  void run();
  void pace(int64_t now);
  bool send_one(connection& c, int64_t now);
  void try_connect(connection& c, int64_t now);
  void on_connected(connection& c, int64_t now);
  void on_readable(connection& c, int64_t now);
  void on_frame(connection& c, const char* body, size_t size, int64_t now);
  void flush(connection& c, int64_t now);
  void drop(connection& c, int64_t now, const std::string& why);
  void watch(connection& c, bool out);
  uint16_t intern(const std::string& worker);
  int64_t now() const;

  load_settings cfg_;
  resolve_fn resolve_;
  int64_t t0_ns_ = 0;
  std::thread thread_;
  std::atomic<bool> abort_{false};
  std::atomic<bool> done_{false};
  int epoll_fd_ = -1;
  std::vector<std::unique_ptr<connection>> conns_;
  size_t next_conn_ = 0;
  size_t inflight_ = 0;
  int64_t last_reply_ns_ = 0; ///< When the last frame arrived.
  bool quiet_ = false;        ///< In the quiet period (all answered).
  uint64_t scheduled_ = 0;
  std::vector<char> rbuf_;
  load_result res_;
};

} // namespace dine::chaos
