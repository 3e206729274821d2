#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

namespace dine {

/// Scrambles all bits of `x` (the 64-bit finalizer of MurmurHash3). A
/// bijection: distinct inputs give distinct outputs.
uint64_t mix64(uint64_t x) noexcept;

/// Hashes `key` to 64 well-spread bits: FNV-1a, then `mix64`. Stable across
/// runs, processes and hosts.
uint64_t hash_key(std::string_view key) noexcept;

/// A consistent-hash ring with virtual nodes. Each member (a 64-bit id)
/// owns `virtual_nodes` points on the ring; a key hash maps to the member
/// owning the first point clockwise of it. Adding or removing one of N
/// members moves only about 1/N of the keys. The ring depends only on its
/// set of members, not on the order they were added in.
class hash_ring {
public:
  /// Virtual nodes per member unless told otherwise.
  static constexpr size_t default_virtual_nodes = 100;

  explicit hash_ring(size_t virtual_nodes = default_virtual_nodes);

  /// Adds `member`; returns false if it already was one.
  bool add(uint64_t member);

  /// Removes `member`; returns false if it was none.
  bool remove(uint64_t member);

  /// Removes all members.
  void clear() noexcept;

  /// Returns whether `member` is on the ring.
  bool contains(uint64_t member) const noexcept;

  /// Returns the number of members.
  size_t size() const noexcept { return members_.size(); }

  /// Returns whether the ring has no members.
  bool empty() const noexcept { return members_.empty(); }

  /// Returns the members in ascending order.
  const std::vector<uint64_t>& members() const noexcept { return members_; }

  /// Returns the virtual nodes per member.
  size_t virtual_nodes() const noexcept { return vnodes_; }

  /// Returns the member owning `key_hash`, or nothing on an empty ring. The
  /// hash is mixed again first, so even small integers spread well.
  std::optional<uint64_t> lookup(uint64_t key_hash) const;

  /// Returns up to `n` distinct members clockwise from `key_hash`, the
  /// owner first (for fallback and replicas).
  std::vector<uint64_t> lookup_n(uint64_t key_hash, size_t n) const;

  /// Returns the first member clockwise from `key_hash` for which
  /// `pred(member)` holds, visiting each member at most once.
  template <class Predicate>
  std::optional<uint64_t> lookup_if(uint64_t key_hash, Predicate pred) const {
    std::optional<uint64_t> result;
    walk(key_hash, [&](uint64_t member) {
      if (pred(member)) {
        result = member;
        return true;
      }
      return false;
    });
    return result;
  }

private:
  using point = std::pair<uint64_t, uint64_t>; // position, member

  /// Calls `f(member)` for each distinct member clockwise from `key_hash`
  /// until it returns true.
  template <class F>
  void walk(uint64_t key_hash, F f) const;

  size_t start_index(uint64_t key_hash) const;

  size_t vnodes_;
  std::vector<uint64_t> members_; // sorted
  std::vector<point> points_;     // sorted
};

/// How a key hash selects one of S shards.
enum class shard_mode : uint8_t {
  /// A `hash_ring` over the shard indices: changing S moves few keys.
  ring,
  /// `key_hash % S`: changing S moves almost every key.
  modulo,
};

/// Returns the config name of `x` (`ring` or `modulo`).
const char* to_string(shard_mode x);

/// Parses `ring` or `modulo`.
caf::expected<shard_mode> parse_shard_mode(const std::string& name);

/// Returns the shard in `[0, shards)` of `key_hash`; 0 when `shards` is 0
/// or 1. Ring mode uses a ring over the members 0..shards-1 with the default
/// number of virtual nodes (built once per thread and shard count).
size_t shard_for(uint64_t key_hash, size_t shards, shard_mode mode);

template <class F>
void hash_ring::walk(uint64_t key_hash, F f) const {
  if (points_.empty())
    return;
  auto n = points_.size();
  auto first = start_index(key_hash);
  auto owner = points_[first].second;
  if (f(owner) || members_.size() == 1)
    return; // the common case needs no bookkeeping
  std::vector<uint64_t> seen{owner};
  for (size_t i = 1; i < n && seen.size() < members_.size(); ++i) {
    auto member = points_[(first + i) % n].second;
    bool fresh = true;
    for (auto x : seen)
      if (x == member) {
        fresh = false;
        break;
      }
    if (!fresh)
      continue;
    if (f(member))
      return;
    seen.push_back(member);
  }
}

} // namespace dine
