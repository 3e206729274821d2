// dine-node: one binary, roles by flag (see docs/operations.md).

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/client_listener.hpp"
#include "actors/coordinator.hpp"
#include "actors/registrar.hpp"
#include "actors/router.hpp"
#include "actors/worker_supervisor.hpp"
#include "messages/types.hpp"
#include "runtime/node_config.hpp"

using namespace dine;

namespace {

/// Writes `text` to `path` atomically (tmp file + rename).
void write_ready_file(const std::string& path, const std::string& text) {
  if (path.empty())
    return;
  auto tmp = path + ".tmp";
  {
    std::ofstream out{tmp};
    out << text << '\n';
  }
  std::rename(tmp.c_str(), path.c_str());
}

std::string default_worker_name() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return std::string{host} + ":" + std::to_string(getpid());
}

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
  // Block the stop signals in every thread; main waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  caf::actor_system_config sys_cfg;
  configure_caf(sys_cfg, cfg);
  caf::actor_system sys{sys_cfg};
  std::vector<caf::actor> roots; // stopped in reverse order at exit
  auto ready =
      std::make_shared<std::string>("{\"pid\": " + std::to_string(getpid()));
  caf::scoped_actor self{sys};
  router_actor router;
  if (cfg.coordinator) {
    router = sys.spawn(dine::router, cfg);
    auto coord = sys.spawn(coordinator, router, cfg);
    caf::anon_send(router, coord);
    roots.push_back(caf::actor_cast<caf::actor>(router));
    roots.push_back(caf::actor_cast<caf::actor>(coord));
    auto cluster_port = sys.middleman().publish(router, cfg.listen_port,
                                                cfg.listen_host.c_str(), true);
    if (!cluster_port) {
      std::cerr << "dine-node: cannot listen on " << cfg.listen_host << ":"
                << cfg.listen_port << ": " << sys.render(cluster_port.error())
                << "\n";
      for (auto& a : roots)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
      return 1;
    }
    listener_options lo;
    lo.host = cfg.client_host;
    lo.port = cfg.client_port;
    lo.max_frame = cfg.max_frame;
    lo.max_inflight = cfg.max_inflight_per_connection;
    auto acceptor = sys.middleman().spawn_broker(client_acceptor, coord, lo);
    roots.push_back(acceptor);
    uint16_t client_port = 0;
    caf::error err;
    self->request(acceptor, std::chrono::seconds{5}, join_atom::value)
        .receive([&](uint16_t p) { client_port = p; },
                 [&](caf::error& e) { err = std::move(e); });
    if (err) {
      std::cerr << "dine-node: cannot listen on " << cfg.client_host << ":"
                << cfg.client_port << ": " << sys.render(err) << "\n";
      for (auto i = roots.rbegin(); i != roots.rend(); ++i)
        caf::anon_send_exit(*i, caf::exit_reason::user_shutdown);
      return 1;
    }
    *ready += ", \"client_port\": " + std::to_string(client_port) +
              ", \"cluster_port\": " + std::to_string(*cluster_port);
    std::cout << "dine-node: coordinator serving clients on " << cfg.client_host
              << ":" << client_port << ", cluster endpoint " << cfg.listen_host
              << ":" << *cluster_port << std::endl;
  }
  if (cfg.worker) {
    auto base = cfg.name.empty() ? default_worker_name() : cfg.name;
    auto n = cfg.coordinator ? cfg.local_workers : 1u;
    for (uint32_t i = 0; i < n; ++i) {
      auto name = n == 1 ? base : base + "/" + std::to_string(i + 1);
      auto w = sys.spawn(worker_supervisor, cfg, name);
      roots.insert(roots.begin(), caf::actor_cast<caf::actor>(w));
      auto info = make_worker_info(cfg, name);
      if (cfg.coordinator) {
        self->request(router, std::chrono::seconds{5}, register_atom::value,
                      info, w)
            .receive([](uint64_t) {},
                     [&](caf::error& e) {
                       std::cerr << "dine-node: local worker registration "
                                    "failed: "
                                 << sys.render(e) << "\n";
                     });
        continue;
      }
      auto ready_text = *ready + ", \"worker\": \"" + name + "\"}";
      auto path = cfg.ready_file;
      auto reg = sys.spawn(registrar, cfg, info, w, [=](uint64_t) {
        write_ready_file(path, ready_text);
        std::cout << "dine-node: worker " << name << " registered with "
                  << cfg.join_host << ":" << cfg.join_port << std::endl;
      });
      roots.push_back(reg);
    }
  }
  if (cfg.coordinator)
    write_ready_file(cfg.ready_file, *ready + "}");
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::cout << "dine-node: stopping (signal " << sig << ")" << std::endl;
  for (auto i = roots.rbegin(); i != roots.rend(); ++i)
    caf::anon_send_exit(*i, caf::exit_reason::user_shutdown);
  // The actor system waits for every actor; never hang at exit.
  std::thread{[] {
    std::this_thread::sleep_for(std::chrono::seconds{10});
    std::cerr << "dine-node: shutdown timed out" << std::endl;
    std::_Exit(3);
  }}.detach();
  return 0;
}
