#pragma once

// etcd_client: the few etcd v3 calls dine needs (docs/design.md, "Coordinator
// high availability"), through etcd's JSON gateway over HTTP/1.1
// (`POST /v3/kv/range`, `/v3/kv/txn`, `/v3/lease/grant`, ...; keys and
// values base64). Synchronous: every call blocks its caller for at most the
// call timeout per endpoint, so it runs on a thread of its own (a detached
// actor), never on a CAF scheduler thread.
// Several endpoints: a call that cannot connect or times out is tried on the
// next endpoint, and the one that answered is used first from then on. A
// response that is not the JSON etcd sends (garbled, truncated, too large,
// wrong types) is an error, never a crash: the parsers are free functions
// with unit tests (tests/unit/test_etcd_client.cpp).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace dine {

/// One etcd client URL, `HOST:PORT`.
struct etcd_endpoint {
  std::string host;
  uint16_t port = 0;
};

/// Parses `HOST:PORT[,HOST:PORT...]`; false on an empty list or a bad
/// entry.
bool parse_etcd_endpoints(const std::string& text,
                          std::vector<etcd_endpoint>& out);

/// One key-value pair as etcd stores it.
struct etcd_kv {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0; ///< 0: no lease.
};

/// The outcome of a create-if-absent transaction.
struct etcd_create_result {
  bool created = false;
  /// When not created: the pair that exists (if it still did).
  std::optional<etcd_kv> current;
};

/// Standard base64 (RFC 4648, with padding), as the gateway uses for bytes.
std::string base64_encode(const std::string& in);

/// Decodes standard base64; false on a character outside the alphabet or
/// a bad length.
bool base64_decode(const std::string& in, std::string& out);

// -- parsers of the gateway's response bodies (exposed for tests) -----------

/// `/v3/lease/grant`: the lease id and the TTL etcd granted (seconds).
caf::expected<std::pair<int64_t, int64_t>>
parse_grant_response(const std::string& body);

/// `/v3/lease/keepalive`: the lease's remaining TTL in seconds; 0 when etcd
/// no longer knows the lease (expired or revoked).
caf::expected<int64_t> parse_keepalive_response(const std::string& body);

/// `/v3/kv/range` of one key: the pair, or nothing if absent.
caf::expected<std::optional<etcd_kv>>
parse_range_response(const std::string& body);

/// `/v3/kv/txn` of `create`: whether the put ran, else the current pair.
caf::expected<etcd_create_result> parse_txn_response(const std::string& body);

/// The body of an error answer (`{"error": ..., "code": N}`): its gRPC code
/// and message; code -1 if the body is not such an object.
std::pair<int, std::string> parse_error_body(const std::string& body);

/// A blocking client of one etcd cluster.
class etcd_client {
public:
  /// The largest response body read; a longer one is an error.
  static constexpr size_t max_body = 1u << 20;

  etcd_client(std::vector<etcd_endpoint> endpoints,
              std::chrono::milliseconds timeout);

  /// Grants a lease of `ttl` seconds: its id and the TTL etcd granted.
  caf::expected<std::pair<int64_t, int64_t>> grant(int64_t ttl);

  /// Renews `lease`: its remaining TTL, 0 if etcd no longer knows it.
  caf::expected<int64_t> keepalive(int64_t lease);

  /// Revokes `lease` (deleting its keys). An unknown lease is no error.
  caf::error revoke(int64_t lease);

  /// Reads `key`.
  caf::expected<std::optional<etcd_kv>> get(const std::string& key);

  /// Puts `key` = `value` with `lease` (0: none) if and only if the key
  /// does not exist (its create_revision is 0), in one transaction.
  caf::expected<etcd_create_result>
  create(const std::string& key, const std::string& value, int64_t lease);

  /// Puts `key` = `value` with `lease` (0: none).
  caf::error put(const std::string& key, const std::string& value,
                 int64_t lease);

  /// `HOST:PORT` of the endpoint tried first.
  std::string current() const;

  /// POSTs `body` to `path`, failing over between the endpoints: the
  /// response body of a 200 answer, else an error naming each endpoint's
  /// failure (`errc::unavailable` when none answered, `errc::internal`
  /// when etcd answered with an error).
  caf::expected<std::string> post(const std::string& path,
                                  const std::string& body);

private:
  std::vector<etcd_endpoint> endpoints_;
  std::chrono::milliseconds timeout_;
  size_t current_ = 0;
};

} // namespace dine
