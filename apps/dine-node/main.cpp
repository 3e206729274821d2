// dine-node: one binary, roles by flag (see docs/operations.md).

#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>

#include "actors/link/node_guard.hpp"
#include "messages/errc.hpp"
#include "messages/types.hpp"
#include "node.hpp"
#include "runtime/heap_trim.hpp"
#include "runtime/node_config.hpp"

using namespace dine;

namespace {

void configure_caf(caf::actor_system_config& sys_cfg, const node_config& cfg) {
  register_types(sys_cfg);
  sys_cfg.load<caf::io::middleman>();
  sys_cfg.set("scheduler.policy", cfg.scheduler_policy == "sharing"
                                      ? caf::atom("sharing")
                                      : caf::atom("stealing"));
  sys_cfg.set("scheduler.max-threads", static_cast<int64_t>(cfg.threads));
  sys_cfg.set("middleman.heartbeat-interval",
              caf::timespan{cfg.heartbeat_interval});
  sys_cfg.set("middleman.connection-timeout",
              caf::timespan{cfg.connection_timeout});
  if (cfg.security.tls()) {
    // All three are set (validate_security checked them): CAF's openssl
    // module then requires and verifies the peer's certificate, and never
    // uses its anonymous cipher suite (docs/security.md, "Mutual TLS").
    sys_cfg.openssl_certificate = cfg.security.tls_cert;
    sys_cfg.openssl_key = cfg.security.tls_key;
    sys_cfg.openssl_cafile = cfg.security.tls_ca;
    sys_cfg.load<caf::openssl::manager>();
  }
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args{argv + 1, argv + argc};
  auto loaded = load_config(args);
  if (!loaded) {
    std::cerr << "dine-node: config error: " << classify(loaded.error()).second
              << "\n";
    return 2;
  }
  auto cfg = std::move(*loaded);
  if (cfg.help) {
    std::cout << usage();
    return 0;
  }
  if (cfg.check) {
    std::cout << to_config_text(cfg);
    return 0;
  }
  if (auto exposed = plaintext_exposure(cfg); !exposed.empty())
    std::cerr << "dine-node: WARNING: --insecure: plaintext inter-node "
                 "traffic on a non-loopback address ("
              << exposed
              << "); peers are not authenticated and traffic is not "
                 "encrypted (docs/security.md)"
              << std::endl;
  // A peer that closes a socket we write to (a metrics scraper that hung
  // up, a client gone mid-reply) must cost an EPIPE, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  // Block the stop signals in every thread; main waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // Before any thread starts: arenas are made per thread on first use.
  if (!limit_arenas(cfg.malloc_arena_max))
    std::cerr << "dine-node: WARNING: mallopt(M_ARENA_MAX) refused"
              << std::endl;
  caf::actor_system_config sys_cfg;
  configure_caf(sys_cfg, cfg);
  caf::actor_system sys{sys_cfg};
  // Gives freed heap back after a burst (docs/security.md).
  std::unique_ptr<heap_trimmer> trimmer;
  if (cfg.heap_trim_interval.count() > 0)
    trimmer =
        std::make_unique<heap_trimmer>(cfg.heap_trim_interval, 64ull << 20, 2);
  // Before any node port opens: every BASP connection goes through it. It
  // is stopped before `sys` ends.
  node_guard_scope guard{sys, cfg.max_node_frame, cfg.security.tls()};
  int status = 0;
  {
    node n{sys, cfg};
    if (auto err = n.start(); !err.empty()) {
      std::cerr << "dine-node: " << err << "\n";
      n.stop();
      return 1;
    }
    // Wait for a stop signal, or for a part of the node that cannot be
    // restarted in place to fail: then exit non-zero, so that the process
    // supervisor (systemd, Kubernetes, dine-chaos) starts a fresh node and
    // the workers and clients reconnect to it.
    int sig = 0;
    timespec tick{0, 100 * 1000 * 1000};
    std::string failure;
    while (sig <= 0) {
      sig = sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig <= 0 && !(failure = n.failed()).empty())
        break;
    }
    if (!failure.empty()) {
      std::cerr << "dine-node: " << failure << ": exiting" << std::endl;
      n.stop();
      std::thread{[] {
        std::this_thread::sleep_for(std::chrono::seconds{10});
        std::_Exit(5);
      }}.detach();
      return 5;
    }
    std::cout << "dine-node: draining (signal " << sig << ")" << std::endl;
    status = n.drain() ? 0 : 4;
    std::cout << "dine-node: stopping" << std::endl;
    n.stop();
  }
  // The actor system waits for every actor; never hang at exit.
  std::thread{[] {
    std::this_thread::sleep_for(std::chrono::seconds{10});
    std::cerr << "dine-node: shutdown timed out" << std::endl;
    std::_Exit(3);
  }}.detach();
  return status;
}
