#pragma once

// Real HTTP clients for the HTTP front door tests: curl (a child process)
// for requests, and a raw TCP socket for what curl will not send (byte by
// byte headers, oversized headers, idle connections).

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dine::test {

/// One curl exchange.
struct http_result {
  int status = 0;   ///< HTTP status; 0 if curl failed.
  std::string body; ///< The response body.
  /// The response's header lines (`Name: value`, as received).
  std::vector<std::string> headers;
  /// The value of header `name` (case-insensitive), or empty.
  std::string header(const std::string& name) const;
  nlohmann::json json() const {
    return nlohmann::json::parse(body, nullptr, false);
  }
};

/// Runs `curl -sS` against `http://127.0.0.1:PORT PATH`; a non-empty
/// `body` is POSTed as JSON unless `method` says otherwise; `headers` are
/// sent as `-H` lines (`Name: value`).
http_result curl(uint16_t port, const std::string& path,
                 const std::string& body = {}, const std::string& method = {},
                 std::chrono::seconds timeout = std::chrono::seconds{30},
                 const std::vector<std::string>& headers = {});

/// One server-sent event stream, read by curl -N to its end.
struct sse_result {
  int status = 0;
  std::vector<std::string> events; ///< `data:` payloads, in order.
  std::string raw;
};

/// POSTs `body` to `path` and splits the event stream.
sse_result curl_events(uint16_t port, const std::string& path,
                       const std::string& body,
                       const std::vector<std::string>& headers = {});

/// A raw TCP connection to 127.0.0.1:PORT (blocking, with timeouts).
class raw_conn {
public:
  explicit raw_conn(uint16_t port);
  ~raw_conn();
  raw_conn(const raw_conn&) = delete;
  raw_conn& operator=(const raw_conn&) = delete;

  /// Sends all of `data`; false if the peer closed.
  bool send(const std::string& data);

  /// Reads until the peer closes or `timeout` passes; returns what came.
  std::string read_all(std::chrono::milliseconds timeout);

  /// Whether the peer closed the connection within `timeout` (reading
  /// and discarding what it sends).
  bool closed_within(std::chrono::milliseconds timeout);

private:
  int fd_ = -1;
};

/// The status code of the first response in `raw` (0 if none).
int status_of(const std::string& raw);

/// Polls `path` until it answers `status`; false after `timeout`.
bool wait_status(uint16_t port, const std::string& path, int status,
                 std::chrono::milliseconds timeout);

} // namespace dine::test
