#pragma once

// node_guard: the middleman front every node port and every outgoing node
// connection goes through (actors/peer.hpp uses it).
//
// Interface: CAF's `middleman_actor` (publish, connect, ...), a subclass of
// `caf::io::middleman_actor_impl` that talks to the same BASP broker as the
// middleman's own actor; only its sockets differ. Every connection it opens
// or accepts is a guarded scribe: each BASP header is checked by
// `node_frame_check` (runtime/node_frame_check.hpp) *before* the BASP
// broker sees it, and a read larger than `max-node-frame` is never sized,
// so a peer cannot make the node allocate for a payload it claims. With
// TLS (`tls-cert`, `tls-key`, `tls-ca`) every connection is a tls_scribe
// (actors/link/tls_scribe.hpp) under the same check: mutual TLS first,
// then the frame check on the decrypted bytes.
// Supervision: spawned once at start-up (`install_node_guard`, or a
// `node_guard_scope` in main), hidden; stopped and awaited before the actor
// system ends (`uninstall_node_guard`), as the middleman does with its own.
// Monitors nothing. On a bad frame it drops that one connection (the BASP
// broker gets the usual connection_closed_msg) and logs one line.

#include <cstdint>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace dine {

/// Spawns the guard for `sys` and registers it (once per actor system;
/// later calls return the registered one). With `tls`, every connection
/// uses mutual TLS: `sys` must have loaded `caf::openssl::manager` with
/// its certificate, key and CA set (never its anonymous default).
caf::actor install_node_guard(caf::actor_system& sys, uint32_t max_node_frame,
                              bool tls = false);

/// Stops the guard of `sys` and waits for it; must run before `sys` is
/// destroyed (the registry would otherwise destroy it after the middleman).
void uninstall_node_guard(caf::actor_system& sys);

/// Installs the guard for the lifetime of this object.
class node_guard_scope {
public:
  node_guard_scope(caf::actor_system& sys, uint32_t max_node_frame,
                   bool tls = false)
      : sys_(sys) {
    install_node_guard(sys, max_node_frame, tls);
  }
  ~node_guard_scope() { uninstall_node_guard(sys_); }
  node_guard_scope(const node_guard_scope&) = delete;
  node_guard_scope& operator=(const node_guard_scope&) = delete;

private:
  caf::actor_system& sys_;
};

/// The guard of `sys`, or the middleman's own actor if none was installed
/// (actor tests).
caf::actor node_guard(caf::actor_system& sys);

} // namespace dine
