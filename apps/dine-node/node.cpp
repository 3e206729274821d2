#include "node.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/coordinator/cache.hpp"
#include "actors/coordinator/coordinator.hpp"
#include "actors/coordinator/router.hpp"
#include "actors/front/client_listener.hpp"
#include "actors/front/http_relay.hpp"
#include "actors/link/cache_link.hpp"
#include "actors/link/elector.hpp"
#include "actors/link/leader_watch.hpp"
#include "actors/link/peer.hpp"
#include "actors/link/registrar.hpp"
#include "actors/link/worker_link.hpp"
#include "actors/supervision/supervisor.hpp"
#include "actors/worker/worker_endpoint.hpp"
#include "actors/worker/worker_supervisor.hpp"
#include "http/api.hpp"
#include "http/dashboard_files.hpp"
#include "http/server.hpp"
#include "runtime/model_registry.hpp"
#include "runtime/stage_models.hpp"

#include <nlohmann/json.hpp>

#include "messages/errc.hpp"
#include "runtime/metrics_server.hpp"

namespace dine {

namespace {

/// Writes `text` to `path` atomically (tmp file + rename).
void write_file(const std::string& path, const std::string& text) {
  if (path.empty())
    return;
  auto tmp = path + ".tmp";
  {
    std::ofstream out{tmp};
    out << text << '\n';
  }
  std::rename(tmp.c_str(), path.c_str());
}

/// The message of a port that could not be bound.
std::string listen_error(caf::actor_system& sys, const std::string& host,
                         uint16_t port, const caf::error& err) {
  return "cannot listen on " + host + ":" + std::to_string(port) + ": " +
         sys.render(err);
}

std::string default_worker_name() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return std::string{host} + ":" + std::to_string(getpid());
}

} // namespace

node::node(caf::actor_system& sys, node_config cfg)
    : sys_(sys), cfg_(std::move(cfg)), self_(sys) {
  ready_ = "{\"pid\": " + std::to_string(getpid());
  // Pool stages of pipelines are models of their own: the router routes
  // them, preproc / postproc processes serve them (and a --role=all node
  // beside its models) -- runtime/stage_models.hpp.
  cfg_.model_table = with_stage_models(std::move(cfg_.model_table));
  if (cfg_.worker)
    cfg_.models = served_models(cfg_);
}

node::~node() {
  metrics_server_.reset(); // its thread reads the hub
}

std::string node::start_metrics() {
  // Without a metrics port, an HTTP front door serves `GET /metrics`
  // itself (docs/http.md), so the coordinator records into a hub anyway.
  bool via_http = !cfg_.metrics && cfg_.coordinator && cfg_.http.enabled;
  if (!cfg_.metrics && !via_http)
    return {};
  metrics_ = std::make_shared<metrics_hub>();
  if (via_http)
    return {};
  auto where = cfg_.metrics_host + ":" + std::to_string(cfg_.metrics_port);
  auto srv =
      metrics_server::start(metrics_, cfg_.metrics_host, cfg_.metrics_port);
  if (!srv)
    return "cannot serve metrics on " + where + ": " +
           classify(srv.error()).second;
  metrics_server_ = std::move(*srv);
  ready_ += ", \"metrics_port\": " + std::to_string(metrics_server_->port());
  std::cout << "dine-node: metrics on http://" << cfg_.metrics_host << ":"
            << metrics_server_->port() << "/metrics" << std::endl;
  return {};
}

std::string node::start() {
  if (auto err = start_metrics(); !err.empty())
    return err;
  if (auto err = start_cache(); !err.empty())
    return err;
  if (cfg_.coordinator)
    if (auto err = start_coordinator(); !err.empty())
      return err;
  if (cfg_.worker)
    if (auto err = start_workers(); !err.empty())
      return err;
  if (auto err = start_tree(); !err.empty())
    return err;
  if (cfg_.worker && !cfg_.coordinator && cfg_.join_host.empty() &&
      !cfg_.etcd.empty())
    start_leader_watch();
  if (cfg_.coordinator || (cfg_.cache_role && !cfg_.worker))
    write_file(cfg_.ready_file, ready_ + "}");
  return {};
}

std::string node::start_cache() {
  if (!cfg_.cache_role && (!cfg_.coordinator || !cfg_.cache.enabled))
    return {};
  if (uses_cache_node()) {
    // A shared cache on a `cache` role node, over the middleman. If it is
    // not up yet, the node serves without a cache until the cache link
    // (started with the coordinator) reaches it.
    auto remote = connect_now<cache_actor>(sys_, cfg_.cache.node_host,
                                           cfg_.cache.node_port);
    if (remote)
      cache_ = *remote;
    else
      std::cout << "dine-node: cannot reach the cache node "
                << cfg_.cache.node_host << ":" << cfg_.cache.node_port << " ("
                << sys_.render(remote.error())
                << "); serving without a cache until it is up" << std::endl;
    return {};
  }
  auto opts = make_cache_options(cfg_.cache);
  if (!opts)
    return sys_.render(opts.error());
  // A supervised child: restarted on a crash (on the same LMDB files), and
  // the coordinator is handed every new incarnation.
  auto coord = std::make_shared<coordinator_actor>();
  coordinator_slot_ = coord;
  children_.push_back(
      {child_spec{"cache", restart_type::permanent, std::chrono::seconds{5}},
       [opts = *opts, coord](caf::local_actor* self) {
         auto c = spawn_cache(self->system(), opts);
         if (*coord)
           caf::anon_send(*coord, c);
         return caf::actor_cast<caf::actor>(c);
       }});
  return {};
}

std::string node::start_coordinator() {
  router_ = sys_.spawn(router, cfg_);
  log_ = std::make_shared<log_sink>(1, log_level_from(cfg_.log_level));
  if (!cfg_.etcd.empty())
    gate_ = std::make_shared<leader_gate>(); // closed until elected
  coordinator_ = sys_.spawn(coordinator, router_, cache_, cfg_,
                            coordinator_telemetry{metrics_, log_, gate_});
  if (coordinator_slot_)
    *coordinator_slot_ = coordinator_; // the cache child hands itself over
  watch(caf::actor_cast<caf::actor>(router_), "router");
  watch(caf::actor_cast<caf::actor>(coordinator_), "coordinator");
  caf::anon_send(router_, coordinator_);
  roots_.push_back(caf::actor_cast<caf::actor>(router_));
  roots_.push_back(caf::actor_cast<caf::actor>(coordinator_));
  if (uses_cache_node())
    roots_.push_back(sys_.spawn(cache_link, cfg_, coordinator_, cache_,
                                cfg_.cache.node_host, cfg_.cache.node_port));
  // The node port only where the role needs it: a coordinator without
  // local workers, or any node given `listen` (docs/security.md). Two
  // embedded nodes on one host then do not collide on 7401.
  caf::expected<uint16_t> cluster_port{uint16_t{0}};
  auto open_port = !cfg_.worker || cfg_.routing.listen_given;
  if (open_port)
    cluster_port =
        publish_actor(sys_, router_, cfg_.listen_host, cfg_.listen_port);
  if (!cluster_port)
    return listen_error(sys_, cfg_.listen_host, cfg_.listen_port,
                        cluster_port.error());
  listener_options lo;
  lo.host = cfg_.client_host;
  lo.port = cfg_.client_port;
  lo.max_frame = cfg_.max_frame;
  lo.max_inflight = cfg_.max_inflight_per_connection;
  lo.max_connections = cfg_.max_connections;
  lo.max_per_address = cfg_.max_connections_per_address;
  lo.memory_budget = static_cast<size_t>(cfg_.memory_budget);
  lo.gate = gate_;
  lo.cluster = cfg_.cluster;
  lo.handshake_timeout = cfg_.client_handshake_timeout;
  lo.frame_timeout = cfg_.client_frame_timeout;
  lo.stats = front_stats_;
  if (!cfg_.api_keys_file.empty()) {
    auto keys = api_keys::load(cfg_.api_keys_file);
    if (!keys)
      return classify(keys.error()).second;
    std::cout << "dine-node: client port needs API keys (" << keys->size()
              << " in " << cfg_.api_keys_file << ")" << std::endl;
    keys_ = std::make_shared<const api_keys>(std::move(*keys));
    lo.keys = keys_;
  }
  if (cfg_.security.client_tls) {
    auto ctx =
        tls_context::server(cfg_.security.tls_cert, cfg_.security.tls_key);
    if (!ctx)
      return classify(ctx.error()).second;
    lo.tls = std::move(*ctx);
  }
  acceptor_ = sys_.middleman().spawn_broker(client_acceptor, coordinator_, lo);
  watch(acceptor_, "client listener");
  roots_.push_back(acceptor_);
  uint16_t client_port = 0;
  std::string err;
  self_->request(acceptor_, std::chrono::seconds{5}, join_atom::value)
      .receive([&](uint16_t p) { client_port = p; },
               [&](caf::error& e) { err = sys_.render(e); });
  if (!err.empty())
    return "cannot listen on " + cfg_.client_host + ":" +
           std::to_string(cfg_.client_port) + ": " + err;
  ready_ += ", \"client_port\": " + std::to_string(client_port);
  if (open_port)
    ready_ += ", \"cluster_port\": " + std::to_string(*cluster_port);
  if (cfg_.http.enabled)
    if (auto e = start_http(); !e.empty())
      return e;
  // Static membership: one link per `--worker=HOST:PORT`.
  for (auto& [host, port] : cfg_.routing.static_workers)
    roots_.push_back(sys_.spawn(worker_link, cfg_, router_, host, port));
  std::cout << "dine-node: coordinator serving clients on " << cfg_.client_host
            << ":" << client_port << (lo.tls ? " (TLS)" : "");
  if (open_port)
    std::cout << ", cluster endpoint " << cfg_.listen_host << ":"
              << *cluster_port;
  else
    std::cout << ", no cluster endpoint (no --listen)";
  std::cout << std::endl;
  if (gate_)
    start_elector(open_port ? *cluster_port : 0, client_port);
  return {};
}

void node::start_elector(uint16_t cluster_port, uint16_t client_port) {
  elector_options eo;
  eo.etcd = cfg_.etcd;
  eo.timeout = cfg_.etcd_timeout;
  eo.cluster = cfg_.cluster;
  eo.key = "/dine/" + cfg_.cluster + "/leader";
  nlohmann::json v{
      {"name", cfg_.name.empty() ? default_worker_name() : cfg_.name},
      {"node", cfg_.listen_host + ":" + std::to_string(cluster_port)},
      {"client", cfg_.client_host + ":" + std::to_string(client_port)},
      {"pid", static_cast<int64_t>(getpid())}};
  eo.value = v.dump();
  eo.election.ttl = cfg_.etcd_lease_ttl;
  eo.election.poll = cfg_.etcd_poll;
  // Stop serving well before etcd could let the lease go.
  eo.election.margin =
      std::min(std::chrono::milliseconds{500},
               std::chrono::milliseconds{cfg_.etcd_lease_ttl} / 4);
  elector_ = sys_.spawn<caf::detached>(elector, eo, gate_, acceptor_);
  roots_.push_back(elector_);
}

void node::start_leader_watch() {
  leader_watch_options wo;
  wo.etcd = cfg_.etcd;
  wo.timeout = cfg_.etcd_timeout;
  wo.poll = cfg_.etcd_poll;
  wo.key = "/dine/" + cfg_.cluster + "/leader";
  auto slots = slots_;
  roots_.push_back(sys_.spawn<caf::detached>(leader_watch, wo, [slots] {
    std::lock_guard<std::mutex> guard{slots->mtx};
    return slots->registrars;
  }));
}

std::string node::start_http() {
  auto table = std::make_shared<relay_table>();
  http_relay_ = sys_.spawn(http_relay, coordinator_, table, gate_);
  watch(http_relay_, "http relay");
  roots_.push_back(http_relay_);
  http::api_options ao;
  ao.ready_models = cfg_.http.ready_models;
  if (ao.ready_models.empty()) {
    auto builtin = builtin_models();
    for (auto& [name, mc] : cfg_.model_table)
      if (builtin.count(name) == 0)
        ao.ready_models.push_back(name);
  }
  ao.job_ttl = cfg_.http.job_ttl;
  ao.max_jobs = cfg_.http.max_jobs;
  ao.files = http::dashboard_files();
  ao.keys = keys_;
  if (metrics_ && !metrics_server_)
    ao.metrics = [hub = metrics_] { return hub->prometheus_text(); };
  auto routes =
      std::make_shared<http::api>(ao, make_relay_backend(http_relay_, table));
  http::server_options so;
  so.host = cfg_.http.host;
  so.port = cfg_.http.port;
  so.max_connections = cfg_.http.max_connections;
  so.max_body_bytes = cfg_.http.max_body_bytes;
  so.max_header_bytes = cfg_.http.max_header_bytes;
  so.idle_timeout = cfg_.http.idle_timeout;
  so.handshake_timeout = cfg_.client_handshake_timeout;
  so.stats = front_stats_;
  if (cfg_.security.client_tls) {
    auto ctx =
        tls_context::server(cfg_.security.tls_cert, cfg_.security.tls_key);
    if (!ctx)
      return classify(ctx.error()).second;
    so.tls = std::move(*ctx);
  }
  http_ = std::make_shared<http::server>(
      so, [routes](http::request&& req, http::exchange_ptr ex) {
        routes->handle(std::move(req), std::move(ex));
      });
  auto [port, err] = http_->start();
  if (!err.empty())
    return err;
  ready_ += ", \"http_port\": " + std::to_string(port);
  std::cout << "dine-node: HTTP front door on " << cfg_.http.host << ":" << port
            << (so.tls ? " (HTTPS)" : "")
            << (keys_ ? " (API keys required)" : "") << std::endl;
  return {};
}

std::string node::start_workers() {
  auto base = cfg_.name.empty() ? default_worker_name() : cfg_.name;
  auto n = cfg_.coordinator ? cfg_.local_workers : 1u;
  for (uint32_t i = 0; i < n; ++i) {
    auto name = n == 1 ? base : base + "/" + std::to_string(i + 1);
    auto info = make_worker_info(cfg_, name);
    declare_shards(info, cfg_);
    if (!cfg_.coordinator && cfg_.join_host.empty() && cfg_.etcd.empty()) {
      // A static worker: a coordinator connects to it. Its published
      // handle cannot be replaced in place, so like the coordinator's core
      // it is watched: if it fails, the node exits (status 5) for its
      // process supervisor to start a fresh one, and the coordinator's
      // link reconnects.
      auto w = sys_.spawn(worker_supervisor, cfg_, name);
      watch(caf::actor_cast<caf::actor>(w), "worker");
      workers_.push_back(w);
      roots_.insert(roots_.begin(), caf::actor_cast<caf::actor>(w));
      return publish_worker(info, w);
    }
    auto cfg = cfg_;
    auto slots = slots_;
    slots->workers.emplace_back();
    // The worker supervisor; a new incarnation replaces slot i.
    supervised_child ws{
        child_spec{"worker", restart_type::permanent, std::chrono::seconds{5}},
        [cfg, name, info, slots, i, router = router_](caf::local_actor* self) {
          auto w = self->spawn(worker_supervisor, cfg, name);
          {
            std::lock_guard<std::mutex> guard{slots->mtx};
            slots->workers[i] = w;
          }
          if (router) // local worker: register straight with the router
            caf::anon_send(router, register_atom::value, info, w);
          return caf::actor_cast<caf::actor>(w);
        }};
    if (cfg_.coordinator) {
      children_.push_back(
          {child_spec{"worker-" + std::to_string(i + 1)}, ws.start});
      continue;
    }
    // A joining worker: its registrar registers the current incarnation,
    // so both restart together (rest_for_one).
    auto ready_text = ready_ + ", \"worker\": \"" + name + "\"}";
    auto path = cfg_.ready_file;
    auto join = cfg_.join_host.empty()
                    ? "the leader of cluster " + cfg_.cluster
                    : cfg_.join_host + ":" + std::to_string(cfg_.join_port);
    supervised_child reg{
        child_spec{"registrar", restart_type::permanent,
                   std::chrono::seconds{5}},
        [cfg, info, slots, i, path, ready_text, join,
         name](caf::local_actor* self) {
          worker_actor w;
          {
            std::lock_guard<std::mutex> guard{slots->mtx};
            w = slots->workers[i];
          }
          auto r = self->spawn(registrar, cfg, info, w, [=](uint64_t) {
            write_file(path, ready_text);
            std::cout << "dine-node: worker " << name << " registered with "
                      << join << std::endl;
          });
          std::lock_guard<std::mutex> guard{slots->mtx};
          slots->registrars.resize(
              std::max<size_t>(slots->registrars.size(), i + 1));
          slots->registrars[i] = r;
          return r;
        }};
    children_.push_back({child_spec{"worker-" + std::to_string(i + 1),
                                    restart_type::permanent, infinite_shutdown},
                         supervisor_factory("worker-" + std::to_string(i + 1),
                                            {restart_strategy::rest_for_one, 3,
                                             std::chrono::seconds{10}},
                                            {ws, reg})});
  }
  return {};
}

std::string node::start_tree() {
  if (children_.empty())
    return {};
  root_ = caf::actor_cast<caf::actor>(
      sys_.spawn(supervisor, std::string{"node"},
                 supervisor_flags{restart_strategy::one_for_one, 3,
                                  std::chrono::seconds{10}},
                 children_));
  roots_.insert(roots_.begin(), root_);
  watch(root_, "the node supervisor");
  std::string err;
  std::vector<child_info> kids;
  self_
      ->request(caf::actor_cast<supervisor_actor>(root_),
                std::chrono::seconds{10}, children_atom::value)
      .receive([&](std::vector<child_info>& xs) { kids = std::move(xs); },
               [&](caf::error& e) { err = sys_.render(e); });
  if (!err.empty())
    return "the node's supervision tree did not start: " + err;
  if (cfg_.cache_role && !cfg_.coordinator) {
    for (auto& k : kids)
      if (k.id == "cache")
        cache_ = caf::actor_cast<cache_actor>(k.handle);
    auto port = publish_actor(sys_, cache_, cfg_.listen_host, cfg_.listen_port);
    if (!port)
      return listen_error(sys_, cfg_.listen_host, cfg_.listen_port,
                          port.error());
    ready_ += ", \"cluster_port\": " + std::to_string(*port);
    std::cout << "dine-node: cache serving on " << cfg_.listen_host << ":"
              << *port << std::endl;
  }
  return {};
}

void node::watch(const caf::actor& a, const std::string& what) {
  auto failure = failure_;
  auto mtx = failure_mtx_;
  a->attach_functor([=](const caf::error& reason) {
    if (!is_abnormal_exit(reason))
      return;
    std::lock_guard<std::mutex> guard{*mtx};
    if (failure->empty())
      *failure = what + " terminated: " + caf::to_string(reason);
  });
}

std::string node::failed() const {
  std::lock_guard<std::mutex> guard{*failure_mtx_};
  return *failure_;
}

std::string node::publish_worker(const worker_info& info,
                                 const worker_actor& w) {
  auto ep = sys_.spawn(worker_endpoint, info, w);
  roots_.push_back(caf::actor_cast<caf::actor>(ep));
  registrars_.push_back(caf::actor_cast<caf::actor>(ep)); // drains through it
  auto port = publish_actor(sys_, ep, cfg_.listen_host, cfg_.listen_port);
  if (!port)
    return listen_error(sys_, cfg_.listen_host, cfg_.listen_port, port.error());
  write_file(cfg_.ready_file,
             ready_ + ", \"cluster_port\": " + std::to_string(*port) +
                 ", \"worker\": \"" + info.name + "\"}");
  std::cout << "dine-node: static worker " << info.name << " listening on "
            << cfg_.listen_host << ":" << *port << std::endl;
  return {};
}

bool node::drain() {
  using namespace std::chrono;
  auto until = steady_clock::now() + cfg_.drain_timeout;
  // Workers leave the registry first: no new batches reach them.
  std::vector<caf::actor> registrars;
  std::vector<worker_actor> workers = workers_;
  {
    std::lock_guard<std::mutex> guard{slots_->mtx};
    registrars = slots_->registrars;
    workers.insert(workers.end(), slots_->workers.begin(),
                   slots_->workers.end());
  }
  registrars.insert(registrars.end(), registrars_.begin(), registrars_.end());
  // A leader resigns first: the standby campaigns while this one drains.
  if (elector_)
    self_->request(elector_, seconds{5}, drain_atom::value)
        .receive([](bool) {}, [](caf::error&) {});
  for (auto& r : registrars)
    if (r)
      self_->request(r, seconds{3}, drain_atom::value)
          .receive([](bool) {}, [](caf::error&) {});
  if (acceptor_)
    self_->send(acceptor_, drain_atom::value);
  // Then wait for the work already accepted.
  for (;;) {
    uint64_t left = 0;
    // High priority: after a flood the coordinator's mailbox may hold
    // seconds of batches; the question must not wait behind them, and an
    // unanswered one means "not drained", never 0.
    auto unknown = [&](caf::error& e) {
      if (e == caf::sec::request_timeout)
        ++left;
    };
    if (coordinator_)
      self_
          ->request<caf::message_priority::high>(coordinator_, seconds{1},
                                                 drain_atom::value)
          .receive([&](uint64_t n) { left += n; }, unknown);
    for (auto& w : workers)
      if (w && !cfg_.coordinator) // local workers drain with the coordinator
        self_->request(w, seconds{1}, drain_atom::value)
            .receive([&](uint64_t n) { left += n; }, [](caf::error&) {});
    if (left == 0) {
      // The last replies may still wait in a connection's mailbox: let
      // every connection handle them before the node stops it.
      if (acceptor_)
        self_->request(acceptor_, seconds{3}, sync_atom::value)
            .receive([](bool) {}, [](caf::error&) {});
      return true;
    }
    if (steady_clock::now() >= until) {
      std::cerr << "dine-node: drain timed out with " << left << " in flight"
                << std::endl;
      return false;
    }
    std::this_thread::sleep_for(milliseconds{10});
  }
}

void node::stop() {
  if (http_)
    http_->stop();
  // With high priority (caf::anon_send_exit's is normal): an actor whose
  // mailbox holds a backlog stops now instead of after working it off.
  for (auto i = roots_.rbegin(); i != roots_.rend(); ++i)
    if (*i)
      (*i)->enqueue(nullptr, caf::make_message_id(caf::message_priority::high),
                    caf::make_message(caf::exit_msg{
                        i->address(), caf::exit_reason::user_shutdown}),
                    nullptr);
}

} // namespace dine
