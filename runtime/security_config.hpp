#pragma once

#include <string>

#include <caf/error.hpp>

namespace dine {

struct node_config;

/// The inter-node security keys of a node's configuration: mutual TLS,
/// the cluster token and the plaintext override (docs/security.md,
/// docs/operations.md "Security").
struct security_settings {
  std::string tls_cert; ///< This node's certificate (PEM), signed by tls_ca.
  std::string tls_key;  ///< Its private key (PEM, unencrypted).
  std::string tls_ca;   ///< The cluster CA certificate (PEM).
  /// Shared secret a worker presents when it joins; empty = not checked.
  std::string cluster_token;
  std::string cluster_token_file; ///< Where the token was read from.
  /// Allows plaintext inter-node traffic on a non-loopback address.
  bool insecure = false;
  /// TLS on the client port and the HTTP port with tls-cert and tls-key
  /// (docs/security.md, "Client port TLS").
  bool client_tls = false;

  /// Whether inter-node traffic uses mutual TLS.
  bool tls() const { return !tls_cert.empty(); }
};

/// Returns whether `key` is one of the security keys.
bool is_security_key(const std::string& key);

/// Sets security key `key` to `value`, validating it (a token file is
/// read here).
caf::error apply_security_option(node_config& cfg, const std::string& key,
                                 const std::string& value,
                                 const std::string& origin);

/// Checks the security keys together: TLS needs all three files, each
/// readable and consistent (runtime/tls_files.hpp); `client-tls` needs
/// them too; plaintext inter-node traffic on a non-loopback address needs
/// `insecure`.
caf::error validate_security(const node_config& cfg);

/// Whether `host` names the loopback interface (127.0.0.0/8, ::1,
/// localhost).
bool is_loopback_host(const std::string& host);

/// The non-loopback inter-node addresses `cfg` uses without TLS (listen,
/// join, cache-node, static workers), comma-separated; empty if none.
std::string plaintext_exposure(const node_config& cfg);

/// Usage lines of the security keys.
std::string security_usage();

/// Renders the security keys as `key = value` lines, each starting with a
/// newline (for `--check`); an inline token is never printed.
std::string security_config_text(const security_settings& s);

} // namespace dine
