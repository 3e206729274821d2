#pragma once

// cache: the response cache actor, a thin shell around a `tiered_cache`
// (runtime/tiered_cache.hpp: an LRU + TTL map in memory in front of LMDB,
// write-behind flush batching, open retries, LMDB maintenance).
//
// Interface: `cache_actor` (messages/interfaces.hpp). Batched lookups and
// batched one-way puts are the hot path; `(sync, puts)` stores and commits
// a batch before it answers (the coordinator's write-through mode);
// get/put/delete/exists/stats are the single-key API; `(tick)` is its own
// timer (the engine's wake-ups).
// Supervised by: a generic supervisor (actors/supervisor.hpp), e.g. as a
// `cache_child`, or by the node. It is safe to restart on the same
// directory: its state (with the engine and its LMDB environment) is
// destroyed in `on_exit`, before monitors see it down, so the next
// incarnation can open the directory again; an open that still fails is
// retried.
// Monitors: nothing.
// On failure: LMDB errors never stop it (the engine counts and logs them,
// via `aout`); with `require_disk`, a disk that never opens terminates it
// with that `errc::storage_error`. An exception in a handler is counted in
// `errors` and answered with the handler's fallback.
//
// Durability: puts are buffered and written in one LMDB transaction per
// `flush_interval` (`(sync, puts)` commits at once). Any termination of the
// actor (normal, `user_shutdown`, even `exit_reason::kill`, an exception) runs
// the state's destructor, which flushes the buffer. A crash of the process
// (SIGKILL, abort) loses at most the puts of the last flush interval; committed
// flushes survive it in every sync mode (a power loss is another matter, see
// `lmdb_sync_mode`). Puts buffered while the disk is still being opened are
// lost if it never opens (they stay in memory). After a failed flush, a key
// whose new value was dropped may serve its older LMDB value once memory evicts
// the new one.

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "actors/supervision/supervisor.hpp"
#include "messages/interfaces.hpp"
#include "runtime/tiered_cache.hpp"

namespace dine {

/// State of a cache actor.
struct cache_state {
  using self_pointer = cache_actor::stateful_pointer<cache_state>;

  explicit cache_state(self_pointer ptr) : self(ptr) {
    // The engine starts in `cache()`.
  }

  cache_state(const cache_state&) = delete;
  cache_state& operator=(const cache_state&) = delete;

  self_pointer self;
  /// Set from the start of the behavior on; its destructor flushes.
  std::optional<tiered_cache> engine;

  static inline const char* name = "dine.cache";
};

/// Behavior of a cache actor.
cache_actor::behavior_type
cache(cache_actor::stateful_pointer<cache_state> self, cache_options opts);

/// Spawns a cache actor. LMDB calls block on disk I/O, so by default it
/// runs `detached` (its own thread) rather than on a scheduler worker.
cache_actor spawn_cache(caf::actor_system& sys, cache_options opts,
                        bool detached = true);

/// Returns a child spec for a supervisor that (re)starts a cache actor
/// with `opts` (detached, like `spawn_cache`).
supervised_child cache_child(
    std::string id, cache_options opts,
    std::chrono::milliseconds shutdown = std::chrono::milliseconds{5000});

} // namespace dine
