#pragma once

// A small blocking client connection for the client wire protocol: plain
// POSIX sockets, TCP_NODELAY, every wait bounded by poll(), and TLS when
// given a client tls_context (docs/security.md, "Client port TLS"). Used
// by dine-client, dine-bench (connection setup) and the cluster tests.

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "messages/client.hpp"
#include "runtime/frame.hpp"
#include "runtime/tls_context.hpp"

namespace dine {

/// A blocking TCP connection to a dine node. Not thread-safe.
class client_conn {
public:
  using duration = std::chrono::milliseconds;

  explicit client_conn(uint32_t max_frame = default_max_frame);

  ~client_conn();

  client_conn(const client_conn&) = delete;
  client_conn& operator=(const client_conn&) = delete;

  /// Connects to `host:port` (name or numeric IPv4/IPv6), trying every
  /// resolved address until `timeout` expires, then completes the TLS
  /// handshake if `use_tls` was called. Returns an empty string on
  /// success, else a message saying what failed.
  std::string connect(const std::string& host, uint16_t port, duration timeout);

  /// Makes every later `connect` speak TLS with `ctx` (a client context).
  /// Also ignores SIGPIPE in the process: a TLS write cannot pass
  /// MSG_NOSIGNAL.
  void use_tls(tls_context ctx);

  /// Returns the TLS session, or null (plaintext, or not connected).
  SSL* tls_session() const noexcept { return ssl_; }

  /// Sends a `hello` frame with API key `key` (id 0) and waits for its
  /// reply. Returns an empty string when the node accepted the key, else
  /// what failed (`unauthorized: ...` for a wrong key).
  std::string hello(const std::string& key, duration timeout);

  /// Writes all of `buf` (any number of complete frames). Returns an empty
  /// string on success, else an error message; the connection is closed
  /// after an error.
  std::string send_frames(const std::vector<char>& buf,
                          duration timeout = std::chrono::seconds{10});

  /// Writes `[data, data + size)`; see `send_frames`.
  std::string send_bytes(const char* data, size_t size, duration timeout);

  /// Reads the next frame body into `body`. Returns an empty string on
  /// success, else an error message (see `timed_out`).
  std::string read_frame(std::vector<char>& body, duration timeout);

  /// Reads and decodes the next reply. Returns an empty string on success,
  /// else an error message (see `timed_out`). A timeout leaves the
  /// connection usable; any other error closes it.
  std::string read_reply(client_reply& out, duration timeout);

  /// Returns whether the last failed read or write ran out of time.
  bool timed_out() const noexcept { return timed_out_; }

  /// Returns whether the connection is open.
  bool connected() const noexcept { return fd_ >= 0; }

  /// Returns the socket descriptor, or -1.
  int fd() const noexcept { return fd_; }

  /// Gives up ownership of the (non-blocking) socket and returns it; a
  /// TLS session must be taken first with `release_tls`.
  int release() noexcept;

  /// Gives up ownership of the TLS session (null without TLS); the caller
  /// frees it (SSL_free) before closing the socket.
  SSL* release_tls() noexcept;

  /// Closes the connection and drops buffered input.
  void close() noexcept;

private:
  std::string fail(std::string msg);

  std::string handshake(const std::string& where, duration timeout);

  uint32_t max_frame_;
  int fd_ = -1;
  tls_context tls_;
  SSL* ssl_ = nullptr;
  bool timed_out_ = false;
  frame_reader reader_;
  std::deque<std::vector<char>> ready_;
  std::vector<char> rbuf_;
};

/// Splits `HOST:PORT` (also `[v6]:PORT`) into its parts. Returns an empty
/// string on success, else what is wrong with `in`.
std::string split_host_port(const std::string& in, std::string& host,
                            uint16_t& port);

} // namespace dine
