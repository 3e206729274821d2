#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace dine {

/// Tracks identical requests (same cache key) in flight at the same time:
/// the first one leads and runs; later ones follow and get the leader's
/// result. If the leader fails or expires, the oldest follower leads next.
class coalescer {
public:
  /// Returns true if `rid` leads `key` (route it) or false if it follows.
  bool join(const std::string& key, uint64_t rid);

  /// The leader `rid` of `key` finished: returns its followers, oldest
  /// first, and forgets the key. Returns nothing if `rid` does not lead.
  std::vector<uint64_t> complete(const std::string& key, uint64_t rid);

  /// The leader `rid` of `key` failed or expired without a result to share:
  /// makes the oldest follower the leader and returns it (0 if none; the
  /// key is then forgotten).
  uint64_t promote(const std::string& key, uint64_t rid);

  /// Follower `rid` no longer waits (its own deadline passed).
  void leave(const std::string& key, uint64_t rid);

  /// Returns the number of keys with a request in flight.
  size_t keys() const noexcept { return groups_.size(); }

  /// Returns how many requests followed a leader so far.
  uint64_t coalesced() const noexcept { return coalesced_; }

private:
  struct group {
    uint64_t leader = 0;
    std::vector<uint64_t> followers;
  };

  std::unordered_map<std::string, group> groups_;
  uint64_t coalesced_ = 0;
};

} // namespace dine
