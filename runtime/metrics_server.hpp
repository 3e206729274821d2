#pragma once

// The HTTP endpoint of `metrics-port` (docs/operations.md, "Metrics"): one
// thread that accepts a connection at a time, reads one request (at most
// 8 KiB, 2 s), answers `GET /metrics` with the hub's text and anything else
// with 404/405, and closes. prometheus-cpp's civetweb exposer is not used:
// the Debian build crashed the process on a 404 (docs/operations.md).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <caf/expected.hpp>

#include "runtime/metrics_hub.hpp"

namespace dine {

/// Serves a `metrics_hub` over HTTP/1.x until destroyed.
class metrics_server {
public:
  /// Binds `host:port` (0 = any free port) and starts serving.
  static caf::expected<std::unique_ptr<metrics_server>>
  start(std::shared_ptr<metrics_hub> hub, const std::string& host,
        uint16_t port);

  /// Stops the thread and closes the socket.
  ~metrics_server();

  /// The bound port.
  uint16_t port() const { return port_; }

  /// The reply to one request whose bytes so far are `req`: the status
  /// line, headers and body (Connection: close).
  static std::string respond(const std::string& req, const metrics_hub& hub);

private:
  metrics_server(std::shared_ptr<metrics_hub> hub, int fd, uint16_t port);

  void run();

  std::shared_ptr<metrics_hub> hub_;
  int fd_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

} // namespace dine
