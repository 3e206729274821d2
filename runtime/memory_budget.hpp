#pragma once

// The node-wide budget for buffered client bytes (`memory-budget-bytes`,
// docs/security.md "Client port"): every client connection reports the
// bytes it holds (a partial frame, bytes read while halted, requests in
// flight, replies not yet sent); when the sum exceeds the budget, the
// largest holders are chosen to be shed until the rest fits. A shed or
// closed connection keeps reporting the bytes of its requests still in
// flight until they are answered: they are still in memory, so they count
// against the limit, and the holders shed next are the live ones. Holders
// below `limit / 64` (a client with a few small requests) are never shed.
// Shared by the connection brokers, which run on different threads: every
// call locks.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace dine {

/// Tracks bytes per holder against one limit. Thread-safe.
class memory_budget {
public:
  /// `limit == 0` disables the budget (`update` never sheds).
  explicit memory_budget(size_t limit = 0)
      : limit_(limit), min_victim_(limit / 64) {
    // nop
  }

  /// Returns the limit (0 = none).
  size_t limit() const noexcept { return limit_; }

  /// Sets what holder `id` holds now (a new id is added). Returns the
  /// holders to shed, largest first, when the total exceeds the limit: as
  /// many holders of at least `limit / 64` bytes as needed for the total
  /// to fit once their bytes are freed. A holder is returned once; its
  /// bytes count until `remove` (or until it reports less).
  std::vector<uint64_t> update(uint64_t id, size_t bytes);

  /// Forgets holder `id` and its bytes.
  void remove(uint64_t id);

  /// Returns the bytes held in total.
  size_t total() const;

  /// Returns how many holders were shed so far.
  uint64_t shed_count() const;

private:
  struct holder {
    size_t bytes = 0;
    bool shed = false;
  };

  size_t limit_;
  size_t min_victim_; ///< Smaller holders are never shed.
  mutable std::mutex mtx_;
  std::unordered_map<uint64_t, holder> holders_;
  size_t total_ = 0;
  uint64_t shed_count_ = 0;
};

} // namespace dine
