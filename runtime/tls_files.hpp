#pragma once

// tls_files: checks a node's TLS files before the node starts, so that a
// bad file is a start-up error naming it, never a failure inside CAF's
// openssl module at the first connection (docs/security.md, "Mutual TLS").

#include <string>

#include <caf/error.hpp>

namespace dine {

/// Checks that `cert`, `key` and `ca` are readable PEM files, that `key`
/// is the private key of `cert`, and that `cert` verifies against `ca`.
/// Returns an `invalid_config` error naming the file and the reason.
caf::error check_tls_files(const std::string& cert, const std::string& key,
                           const std::string& ca);

} // namespace dine
