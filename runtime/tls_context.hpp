#pragma once

// tls_context: the OpenSSL context of TLS on the client port (docs/
// security.md, "Client port TLS"), for both ends: the node presents its
// node certificate (`tls-cert`, `tls-key`) and asks clients for none; a
// client (dine-client, dine-bench, the tests) verifies it against a CA
// file and, if given a name, checks the certificate's DNS name or CN.
// TLS 1.2 or newer, ciphers `HIGH:!aNULL:!MD5` (as between nodes).
// Unlike CAF's openssl module this is server-authenticated TLS: client
// authentication stays with API keys.

#include <memory>
#include <string>

#include <caf/expected.hpp>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace dine {

/// A shared, immutable SSL_CTX.
class tls_context {
public:
  tls_context() = default;

  /// The node's side: presents `cert` (a PEM chain) with `key` (an
  /// unencrypted PEM key). An `invalid_config` error names a bad file.
  static caf::expected<tls_context> server(const std::string& cert,
                                           const std::string& key);

  /// A client's side: trusts the certificates in `ca` (empty: the
  /// system's CA store); a non-empty `name` must match the server
  /// certificate's DNS names (or its CN if it has none). An
  /// `invalid_config` error names a bad file.
  static caf::expected<tls_context> client(const std::string& ca,
                                           const std::string& name = {});

  /// Returns whether this holds a context.
  explicit operator bool() const noexcept { return ctx_ != nullptr; }

  /// Returns the OpenSSL context (owned here; SSL_CTX_up_ref to keep it).
  SSL_CTX* native() const noexcept { return ctx_.get(); }

  /// Returns whether this is the node's side.
  bool is_server() const noexcept { return server_; }

  /// A new session on the connected socket `fd`, set to accept (server)
  /// or connect (client); null if OpenSSL cannot make one. The caller
  /// owns it (SSL_free).
  SSL* new_session(int fd) const;

  /// The message of the last OpenSSL error on this thread (then clears
  /// the queue), or `fallback` if there is none.
  static std::string last_error(const char* fallback);

private:
  std::shared_ptr<SSL_CTX> ctx_;
  std::string name_;
  bool server_ = false;
};

} // namespace dine
