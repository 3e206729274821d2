#pragma once

// job_table: the asynchronous jobs of `POST /v1/infer/{model}?async=true`
// (docs/http.md, "Asynchronous jobs"). Thread-safe: jobs are added on the
// io thread and completed on an actor thread. A finished job is kept for
// `ttl`, then forgotten; at most `max_jobs` exist at once (pending ones
// included), so a client that never fetches its results cannot grow it.
// With API keys a job belongs to the key that made it: another user key
// sees no such job (404, not 403, so ids do not reveal that a job exists);
// an admin key sees all.

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "runtime/api_keys.hpp"

namespace dine::http {

/// The asynchronous jobs of one HTTP server.
class job_table {
public:
  using clock = std::chrono::steady_clock;

  enum class state { pending, done, cancelled };

  /// A job as `GET /v1/requests/{id}` shows it.
  struct job {
    state st = state::pending;
    unsigned status = 0; ///< HTTP status of the result, when done.
    std::string body;    ///< JSON of the result, when done.
    uint32_t owner = 0;  ///< The key that made it (key_match::key).
  };

  /// Returns whether `who` may read or cancel `j`: an admin, or the key
  /// that made it (without keys everyone is admin).
  static bool visible(const job& j, const key_match& who) noexcept {
    return who.role == key_role::admin || j.owner == who.key;
  }

  job_table(std::chrono::milliseconds ttl, size_t max_jobs)
      : ttl_(ttl), max_(max_jobs) {
    // nop
  }

  /// Adds pending job `id` of key `owner`. Returns false when `max_jobs`
  /// exist.
  bool add(uint64_t id, clock::time_point now, uint32_t owner = 0);

  /// Stores the result of `id` (ignored if cancelled or gone).
  void complete(uint64_t id, unsigned status, std::string body,
                clock::time_point now);

  /// Marks `id` cancelled. Returns false if unknown or not `visible` to
  /// `who`; a job that is done stays done (returns true: it exists).
  bool cancel(uint64_t id, clock::time_point now,
              const key_match& who = {key_role::admin, 0});

  /// The job `id`, if it exists, has not expired and is `visible` to `who`.
  std::optional<job> get(uint64_t id, clock::time_point now,
                         const key_match& who = {key_role::admin, 0});

  /// Jobs held now.
  size_t size();

private:
  void expire(clock::time_point now);

  std::chrono::milliseconds ttl_;
  size_t max_;
  std::mutex mtx_;
  std::unordered_map<uint64_t, job> jobs_;
  /// Finished jobs in the order they expire.
  std::deque<std::pair<clock::time_point, uint64_t>> expiry_;
};

} // namespace dine::http
