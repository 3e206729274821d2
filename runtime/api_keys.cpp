#include "runtime/api_keys.hpp"

#include <fstream>
#include <sstream>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "messages/errc.hpp"

namespace dine {

namespace {

void digest_of(std::string_view key, unsigned char (&out)[32]) {
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), out);
}

} // namespace

const char* to_string(key_role x) {
  switch (x) {
  case key_role::user:
    return "user";
  case key_role::admin:
    return "admin";
  default:
    return "none";
  }
}

bool api_keys::add(std::string_view key, key_role role) {
  if (key.empty() || role == key_role::none)
    return false;
  entry e;
  digest_of(key, e.digest);
  e.role = role;
  entries_.push_back(e);
  return true;
}

key_match api_keys::match(std::string_view key) const {
  unsigned char d[32];
  digest_of(key, d);
  // Digests have one length, so no comparison's time depends on the key's
  // length or on where it differs; every entry is compared.
  auto result = key_role::none;
  uint32_t pos = 0;
  uint32_t n = 0;
  for (auto& e : entries_) {
    ++n;
    auto same = CRYPTO_memcmp(d, e.digest, sizeof(d)) == 0;
    auto mask = static_cast<uint8_t>(-static_cast<int>(same)); // 0 or 0xff
    auto wide = static_cast<uint32_t>(-static_cast<int32_t>(same));
    result = static_cast<key_role>((static_cast<uint8_t>(e.role) & mask) |
                                   (static_cast<uint8_t>(result) & ~mask));
    pos = (n & wide) | (pos & ~wide);
  }
  return {result, pos};
}

bool api_keys::allows(key_role role, op_code op) noexcept {
  switch (role) {
  case key_role::admin:
    return true;
  case key_role::user:
    return op == op_code::infer || op == op_code::cancel ||
           op == op_code::health || op == op_code::models ||
           op == op_code::hello;
  default:
    return op == op_code::hello;
  }
}

caf::expected<api_keys> api_keys::parse(const std::string& text,
                                        const std::string& origin) {
  api_keys result;
  std::istringstream in{text};
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    std::istringstream words{line};
    std::string role, key, extra;
    words >> role;
    if (role.empty() || role[0] == '#')
      continue;
    words >> key >> extra;
    auto where = origin + ":" + std::to_string(lineno) + ": ";
    if (key.empty() || !extra.empty())
      return make_error(errc::invalid_config,
                        where + "expected `admin KEY` or `user KEY`");
    key_role r;
    if (role == "admin")
      r = key_role::admin;
    else if (role == "user")
      r = key_role::user;
    else
      return make_error(errc::invalid_config,
                        where + "role must be `admin` or `user`, got `" + role +
                            "`");
    if (key.size() < min_api_key_length)
      return make_error(errc::invalid_config,
                        where + "a key must have at least " +
                            std::to_string(min_api_key_length) + " characters");
    result.add(key, r);
  }
  if (!result.enabled())
    return make_error(errc::invalid_config, origin + ": no keys in the file");
  return result;
}

std::vector<uint8_t> encode_role(key_role role) {
  std::string_view name = to_string(role);
  std::vector<uint8_t> out{0x81, 0xa4, 'r', 'o', 'l', 'e'};
  out.push_back(static_cast<uint8_t>(0xa0 | name.size()));
  out.insert(out.end(), name.begin(), name.end());
  return out;
}

caf::expected<api_keys> api_keys::load(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(errc::invalid_config,
                      "api-keys-file: cannot read `" + path + "`");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

} // namespace dine
