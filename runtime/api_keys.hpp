#pragma once

// API keys of the client port (docs/security.md, "Client port"): a set of
// keys, each either `admin` or `user`, loaded from `api-keys-file`. A
// connection presents one in a `hello` frame (docs/protocol.md); the
// comparison takes the same time whichever key (if any) matches and
// wherever two keys differ. Also the check an HTTP front door calls.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "messages/client.hpp"

namespace dine {

/// What a connection may do.
enum class key_role : uint8_t {
  none,  ///< No valid key (only `hello` is answered).
  user,  ///< `infer`, `cancel`, `health`, `models`.
  admin, ///< Everything, including `stats` and `fault`.
};

/// Returns `"none"`, `"user"` or `"admin"`.
const char* to_string(key_role x);

/// The shortest key accepted in a key file.
constexpr size_t min_api_key_length = 16;

/// Who presented a key: its role and which key (1-based position in the
/// key file; 0: none matched, or no keys are configured). HTTP async jobs
/// belong to the key that made them (docs/http.md).
struct key_match {
  key_role role = key_role::none;
  uint32_t key = 0;
};

/// A set of API keys. Keys are kept as SHA-256 digests; `check` compares a
/// presented key's digest with every stored digest in constant time.
class api_keys {
public:
  /// Returns whether keys are configured (if not, every client is admin).
  bool enabled() const noexcept { return !entries_.empty(); }

  /// Returns the number of keys.
  size_t size() const noexcept { return entries_.size(); }

  /// Adds a key with a role. Returns false for an empty key or role `none`.
  bool add(std::string_view key, key_role role);

  /// Returns the role of `key`: `none` when it matches no stored key. Every
  /// stored key is compared (no early exit), each in constant time.
  key_role check(std::string_view key) const { return match(key).role; }

  /// Returns the role and the position of `key`, compared as `check` does
  /// (every stored key, no early exit; the position is selected without a
  /// branch on the result).
  key_match match(std::string_view key) const;

  /// Returns the role a connection gets before it says `hello`: `admin`
  /// when no keys are configured, else `none`.
  key_role initial_role() const noexcept {
    return enabled() ? key_role::none : key_role::admin;
  }

  /// Returns whether `role` may run `op` (`hello` is always allowed).
  static bool allows(key_role role, op_code op) noexcept;

  /// Parses a key file: one `ROLE KEY` per line (`admin` or `user`), blank
  /// lines and `#` comments ignored. `origin` names the file in errors;
  /// a key shorter than `min_api_key_length` is an error.
  static caf::expected<api_keys> parse(const std::string& text,
                                       const std::string& origin);

  /// Reads and parses the key file at `path`.
  static caf::expected<api_keys> load(const std::string& path);

private:
  struct entry {
    unsigned char digest[32];
    key_role role;
  };
  std::vector<entry> entries_;
};

/// The `outputs` of a `hello` reply: the msgpack map `{"role": ROLE}`.
std::vector<uint8_t> encode_role(key_role role);

} // namespace dine
