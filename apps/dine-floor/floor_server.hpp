#pragma once

// "The floor": a single-threaded epoll server speaking the client protocol
// with the same codec work as the real front door (decode_request, build a
// client_reply, append_reply), but no actors. It measures the best any
// front door can do on this machine.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "messages/client.hpp"
#include "runtime/frame.hpp"

namespace dine {

/// Counters printed when the server stops.
struct floor_stats {
  uint64_t connections = 0;
  uint64_t requests = 0;
  uint64_t errors = 0;
  uint64_t reads = 0;
};

/// The floor server: one thread, one epoll set, non-blocking sockets.
class floor_server {
public:
  /// With `codec` false, requests are not decoded: each reply is a
  /// pre-encoded ok reply patched with the request's id. That measures
  /// the I/O alone (and the load generator's capacity).
  explicit floor_server(bool codec = true);

  ~floor_server();

  floor_server(const floor_server&) = delete;
  floor_server& operator=(const floor_server&) = delete;

  /// Binds and listens on `host:port` (0 = any free port). Returns an empty
  /// string on success, else an error message.
  std::string listen(const std::string& host, uint16_t port);

  /// Returns the port the server listens on.
  uint16_t port() const noexcept { return port_; }

  /// Serves clients until `stop_fd` (e.g. a signalfd) becomes readable.
  /// Returns an empty string on a clean stop, else an error message.
  std::string run(int stop_fd);

  /// Returns the counters.
  const floor_stats& stats() const noexcept { return stats_; }

private:
  using clock_type = std::chrono::steady_clock;

  struct connection {
    int fd = -1;
    frame_reader reader;
    std::vector<char> out;
    size_t out_off = 0;
    uint32_t interest = 0; ///< Events currently registered with epoll.
    bool closing = false;  ///< Rejected: write the error, then close.
    bool wr_shut = false;  ///< shutdown(SHUT_WR) done.
    clock_type::time_point close_at;
  };

  void accept_all();
  void on_event(connection& c, uint32_t events);
  void on_frame(connection& c, const char* body, size_t size);
  void on_frame_raw(connection& c, const char* body, size_t size);
  void reject(connection& c);
  bool flush(connection& c);
  void update_interest(connection& c);
  void drop(connection& c);
  void sweep_closing();

  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<connection>> conns_; ///< Indexed by fd.
  size_t closing_count_ = 0;
  std::vector<char> rbuf_;
  client_request req_;
  client_reply rep_;
  std::vector<uint8_t> health_;
  std::vector<uint8_t> models_;
  floor_stats stats_;
  bool codec_;
  std::vector<char> raw_reply_; ///< Framed reply template (no codec).
  size_t raw_id_offset_ = 0;
};

} // namespace dine
