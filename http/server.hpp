#pragma once

// http::server: the HTTP/1.1 transport of the HTTP front door
// (docs/http.md), on Boost.Beast over one asio io thread.
//
// Why Beast on one io thread (docs/design.md, "HTTP front door"): every
// connection is an asynchronous state machine, so a slow or idle client holds
// a few hundred bytes and a timer, never a thread; keep-alive and pipelining
// come from reading the next request only after the last response was
// written; server-sent events are chunked writes from the same queue. The
// work itself runs in the actor system: this thread only parses, routes and
// serializes, which is cheap next to a request's trip through the cluster.
//
// TLS (`client-tls`): each connection is a Beast ssl_stream over the TCP
// stream, with the node's certificate (runtime/tls_context.hpp); a failed
// handshake closes it. Limits: header bytes (431), body bytes (413),
// connections (503 then close; over TLS before any handshake: the
// client sees a TLS error, not the 503), a handshake timeout (counted in
// `stats.handshake_timeouts`), and an idle timeout that bounds the
// time to read one whole request (a client sending its headers byte by byte is
// closed when it runs out, see docs/security.md).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "runtime/front_stats.hpp"
#include "runtime/tls_context.hpp"

namespace dine::http {

/// Settings of the HTTP listener.
struct server_options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  uint32_t max_header_bytes = 16u << 10;
  uint32_t max_body_bytes = 1u << 20;
  uint32_t max_connections = 1024;
  /// Longest time to read one request, and to wait for the next one on a
  /// keep-alive connection.
  std::chrono::milliseconds idle_timeout{30000};
  /// A server context: the port speaks HTTPS (`client-tls`).
  tls_context tls;
  /// Bound of a TLS handshake (`client-handshake-timeout-ms`).
  std::chrono::milliseconds handshake_timeout{10000};
  /// Counts handshakes that timed out; may be null.
  std::shared_ptr<front_stats> stats;
};

/// One parsed request.
using request = boost::beast::http::request<boost::beast::http::string_body>;

class session;
struct io_core;

/// The way back of one request. Every member is thread-safe: it posts to
/// the io thread. Exactly one of `respond` or `start_events` ... `end_events`
/// answers a request; later calls are ignored.
class exchange {
public:
  exchange(std::weak_ptr<session> s, std::shared_ptr<io_core> core);

  /// Extra header fields of a response.
  using fields = std::vector<std::pair<std::string, std::string>>;

  /// A complete response with `Content-Type: content_type` (and `extra`).
  void respond(unsigned status, std::string content_type, std::string body,
               fields extra = {});

  /// A JSON response.
  void json(unsigned status, std::string body) {
    respond(status, "application/json", std::move(body));
  }

  /// Starts a `text/event-stream` response (chunked).
  void start_events();

  /// Sends one event `data: <data>\n\n`.
  void event(const std::string& data);

  /// Ends the event stream.
  void end_events();

  /// `f` runs (on the io thread) if the client goes away before the
  /// response ended. Call before answering.
  void on_close(std::function<void()> f);

private:
  template <class F>
  void post(F f);

  std::weak_ptr<session> session_;
  std::shared_ptr<io_core> core_;
};

using exchange_ptr = std::shared_ptr<exchange>;

/// Called on the io thread with each request; must not block.
using handler = std::function<void(request&&, exchange_ptr)>;

/// The listener and its io thread.
class server {
public:
  server(server_options opts, handler h);
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and starts the io thread. Returns the bound port, or an error
  /// message.
  std::pair<uint16_t, std::string> start();

  /// Stops accepting and closes every connection; joins the io thread.
  void stop();

  /// Connections open now.
  uint32_t connections() const;

private:
  std::shared_ptr<io_core> core_;
  std::thread thread_;
};

} // namespace dine::http
