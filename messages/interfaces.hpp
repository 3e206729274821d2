#pragma once

// The typed interfaces of every dine actor, in one place, in the order of
// the request path (docs/design.md, "The path of a request"):
//
//   connection -> coordinator (-> cache) -> router -> batcher -> worker
//   -> session, and the static worker's endpoint (a link) last.
//
// C++ needs an alias declared before an interface names it, so two move up
// from their place on the path: the cache (the coordinator names it), and
// the worker (the router's and the batcher's messages carry its handle).

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/batch.hpp"
#include "messages/cache.hpp"
#include "messages/client.hpp"
#include "messages/cluster.hpp"
#include "messages/fault.hpp"

namespace dine {

using register_atom = caf::atom_constant<caf::atom("register")>;
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using worker_atom = caf::atom_constant<caf::atom("worker")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using fault_atom = caf::atom_constant<caf::atom("fault")>;
using exists_atom = caf::atom_constant<caf::atom("exists")>;
using lost_atom = caf::atom_constant<caf::atom("lost")>;
using reroute_atom = caf::atom_constant<caf::atom("reroute")>;
using sync_atom = caf::atom_constant<caf::atom("sync")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using step_atom = caf::atom_constant<caf::atom("step")>;
/// `(leader, host, port)`: the node endpoint of the cluster's leader.
using leader_atom = caf::atom_constant<caf::atom("leader")>;
/// `(fence)`: this coordinator lost its lease; close every client
/// connection.
using fence_atom = caf::atom_constant<caf::atom("fence")>;

// -- front door ---------------------------------------------------------------

/// The reply sink of a client connection.
using connection_actor =
    caf::typed_actor<caf::reacts_to<std::vector<client_reply>>>;

// -- coordinator side ---------------------------------------------------------

/// The response cache: LRU + TTL in memory, LMDB on disk. `cache_lookup`
/// and `std::vector<cache_entry>` are the batched hot path (a requester
/// that `send`s a lookup receives `cache_hits` as an ordinary message); the
/// atom handlers are the single-key API.
using cache_actor = caf::typed_actor<
    caf::replies_to<cache_lookup>::with<cache_hits>,
    caf::reacts_to<std::vector<cache_entry>>, // batched puts, one-way
    // Batched puts committed to LMDB before the answer (write-through:
    // `cache-flush-us = 0` on the coordinator, docs/operations.md).
    caf::replies_to<sync_atom, std::vector<cache_entry>>::with<bool>,
    caf::replies_to<caf::get_atom, std::string>::with<bool,
                                                      std::vector<uint8_t>>,
    caf::replies_to<caf::put_atom, cache_entry>::with<bool>,
    caf::replies_to<caf::delete_atom, std::string>::with<bool>,
    caf::replies_to<exists_atom, std::string>::with<bool>,
    caf::replies_to<stats_atom>::with<cache_stats>,
    caf::reacts_to<tick_atom>>; // write-behind flush timer

/// The coordinator: accepts decoded requests from connections, owns the
/// in-flight table and every reply's way back.
using coordinator_actor = caf::typed_actor<
    caf::reacts_to<std::vector<client_request>>,  // from a connection
    caf::reacts_to<std::vector<client_reply>>,    // results, id = request id
    caf::reacts_to<tick_atom>,                    // deadline sweep
    caf::reacts_to<cache_hits>,                   // answer to a lookup
    caf::reacts_to<cache_actor>,                  // (re)started cache
    caf::reacts_to<std::vector<model_version>>,   // from the router
    caf::reacts_to<std::vector<stream_chunk>>,    // from a batcher
    caf::reacts_to<cancel_atom>,                  // a connection closed
    caf::replies_to<drain_atom>::with<uint64_t>>; // requests in flight

// -- worker handle (used by the router and batchers) --------------------------

/// A worker node's entry point: runs batches on its model sessions.
/// `(restart, model)` is its own timer for restarting a crashed session;
/// `(fault, spec)` sets a fault hook; `(drain)` returns the batches it has
/// in flight (a draining node waits for 0).
using worker_actor =
    caf::typed_actor<caf::replies_to<batch>::with<batch_result>,
                     caf::reacts_to<std::vector<stream_chunk>>, // a session's
                     caf::reacts_to<cancel_atom, std::string, uint64_t>,
                     caf::replies_to<stats_atom>::with<heartbeat>,
                     caf::reacts_to<restart_atom, std::string>,
                     caf::reacts_to<fault_atom, fault_spec>,
                     caf::replies_to<drain_atom>::with<uint64_t>>;

// -- routing and batching -----------------------------------------------------

/// The router: worker registry and model table; forwards requests to the
/// batcher of their model. Published on the cluster port for workers.
using router_actor = caf::typed_actor<
    caf::reacts_to<std::vector<client_request>>,
    caf::reacts_to<coordinator_actor>, // set once at start
    caf::replies_to<register_atom, worker_info, worker_actor>::with<uint64_t>,
    caf::reacts_to<heartbeat_atom, heartbeat>,
    caf::replies_to<fault_atom, fault_spec>::with<std::vector<std::string>>,
    caf::replies_to<drain_atom, worker_actor>::with<bool>, // deregister
    caf::replies_to<stats_atom>::with<cluster_stats>,
    // From a batcher whose pool is empty: route these again elsewhere;
    // the number is how many workers that batcher was ever sent.
    caf::reacts_to<reroute_atom, uint64_t, std::vector<client_request>>,
    // From the coordinator: cancel request rid of a model (every batcher
    // of the model looks for it).
    caf::reacts_to<cancel_atom, std::string, uint64_t>,
    caf::reacts_to<tick_atom>>; // heartbeat check

/// One batcher per (model, version, shard): queues requests, forms batches,
/// sends them to workers and hands the split results to the coordinator.
using batcher_actor = caf::typed_actor<
    caf::reacts_to<std::vector<client_request>>,
    caf::reacts_to<worker_atom, worker_actor, std::string, uint32_t>, // join
    caf::reacts_to<batch_result>,              // from a worker
    caf::reacts_to<std::vector<stream_chunk>>, // from a worker
    caf::reacts_to<cancel_atom, uint64_t>,     // stop request rid
    caf::reacts_to<tick_atom>,                 // flush timer
    caf::reacts_to<tick_atom, uint64_t>,       // deadline and timeout sweep
    caf::reacts_to<drain_atom, worker_actor>,  // no new batches for it
    caf::reacts_to<lost_atom, worker_actor, std::string>, // retry its work
    caf::replies_to<stats_atom>::with<batcher_stats>>;

// -- worker side --------------------------------------------------------------

/// A model session: runs one batch of one model and returns its results.
/// `(tick, seq)` delivers a result held back by a simulated device delay;
/// `(fault, kind, slow_ms)` makes the next batch fail that way. Generative
/// sessions step with `(step)` and end a sequence with `(cancel, rid)`;
/// single-shot ones ignore both.
using session_actor =
    caf::typed_actor<caf::replies_to<batch>::with<batch_result>,
                     caf::reacts_to<tick_atom, uint64_t>,
                     caf::reacts_to<fault_atom, fault_kind, uint32_t>,
                     caf::reacts_to<step_atom>,
                     caf::reacts_to<cancel_atom, uint64_t>>;

// -- links --------------------------------------------------------------------

/// The endpoint a static worker (`--listen` without `--join`) publishes:
/// a coordinator's worker_link asks it who it is (passing itself, so that
/// a draining worker can deregister through it).
using worker_endpoint_actor = caf::typed_actor<
    caf::replies_to<join_atom, caf::actor>::with<worker_info, worker_actor>,
    caf::replies_to<drain_atom>::with<bool>>;

} // namespace dine
