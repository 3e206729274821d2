#include "runtime/hash_ring.hpp"

#include <algorithm>
#include <map>

#include "messages/errc.hpp"

namespace dine {

namespace {

constexpr uint64_t golden_gamma = 0x9E3779B97F4A7C15ull;

/// Ring position of virtual node `i` of `member`.
uint64_t point_position(uint64_t member, size_t i) noexcept {
  return mix64(mix64(member) + (static_cast<uint64_t>(i) + 1) * golden_gamma);
}

} // namespace

uint64_t mix64(uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  x ^= x >> 33;
  return x;
}

uint64_t hash_key(std::string_view key) noexcept {
  uint64_t h = 0xCBF29CE484222325ull; // FNV-1a offset basis
  for (auto c : key) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001B3ull; // FNV-1a prime
  }
  return mix64(h);
}

hash_ring::hash_ring(size_t virtual_nodes)
    : vnodes_(virtual_nodes == 0 ? 1 : virtual_nodes) {
  // nop
}

bool hash_ring::add(uint64_t member) {
  auto i = std::lower_bound(members_.begin(), members_.end(), member);
  if (i != members_.end() && *i == member)
    return false;
  members_.insert(i, member);
  std::vector<point> fresh;
  fresh.reserve(vnodes_);
  for (size_t v = 0; v < vnodes_; ++v)
    fresh.emplace_back(point_position(member, v), member);
  std::sort(fresh.begin(), fresh.end());
  auto mid = points_.size();
  points_.insert(points_.end(), fresh.begin(), fresh.end());
  std::inplace_merge(points_.begin(), points_.begin() + mid, points_.end());
  return true;
}

bool hash_ring::remove(uint64_t member) {
  auto i = std::lower_bound(members_.begin(), members_.end(), member);
  if (i == members_.end() || *i != member)
    return false;
  members_.erase(i);
  points_.erase(
      std::remove_if(points_.begin(), points_.end(),
                     [member](const point& p) { return p.second == member; }),
      points_.end());
  return true;
}

void hash_ring::clear() noexcept {
  members_.clear();
  points_.clear();
}

bool hash_ring::contains(uint64_t member) const noexcept {
  return std::binary_search(members_.begin(), members_.end(), member);
}

size_t hash_ring::start_index(uint64_t key_hash) const {
  // Points are sorted by (position, member); the first point at or after
  // the key's position owns it, wrapping around past the end.
  point probe{mix64(key_hash), 0};
  auto i = std::lower_bound(points_.begin(), points_.end(), probe);
  return i == points_.end() ? 0 : static_cast<size_t>(i - points_.begin());
}

std::optional<uint64_t> hash_ring::lookup(uint64_t key_hash) const {
  if (points_.empty())
    return std::nullopt;
  return points_[start_index(key_hash)].second;
}

std::vector<uint64_t> hash_ring::lookup_n(uint64_t key_hash, size_t n) const {
  std::vector<uint64_t> result;
  if (n == 0)
    return result;
  result.reserve(std::min(n, members_.size()));
  walk(key_hash, [&](uint64_t member) {
    result.push_back(member);
    return result.size() >= n;
  });
  return result;
}

const char* to_string(shard_mode x) {
  return x == shard_mode::modulo ? "modulo" : "ring";
}

caf::expected<shard_mode> parse_shard_mode(const std::string& name) {
  if (name == "ring")
    return shard_mode::ring;
  if (name == "modulo")
    return shard_mode::modulo;
  return make_error(errc::invalid_config,
                    "unknown shard mode `" + name + "` (valid: ring, modulo)");
}

size_t shard_for(uint64_t key_hash, size_t shards, shard_mode mode) {
  if (shards <= 1)
    return 0;
  if (mode == shard_mode::modulo)
    return static_cast<size_t>(key_hash % shards);
  thread_local std::map<size_t, hash_ring> rings;
  auto i = rings.find(shards);
  if (i == rings.end()) {
    if (rings.size() >= 16) // bound the cache; shard counts rarely vary
      rings.clear();
    hash_ring ring;
    for (size_t s = 0; s < shards; ++s)
      ring.add(s);
    i = rings.emplace(shards, std::move(ring)).first;
  }
  return static_cast<size_t>(*i->second.lookup(key_hash));
}

} // namespace dine
