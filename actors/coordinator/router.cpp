#include "actors/coordinator/router.hpp"

#include <algorithm>
#include <map>

#include <caf/actor_ostream.hpp>

#include "actors/coordinator/batcher.hpp"
#include "messages/errc.hpp"
#include "runtime/balancer.hpp"
#include "runtime/cluster_token.hpp"
#include "runtime/error_reply.hpp"
#include "runtime/outlier_detector.hpp"

namespace dine {

namespace {

using self_ptr = router_actor::stateful_pointer<router_state>;
using clock = router_state::clock;

router_state::batcher_entry& ensure_batcher(self_ptr self,
                                            const route_target& t) {
  auto& st = self->state;
  if (auto i = st.batchers.find(t); i != st.batchers.end())
    return i->second;
  auto m = st.registry->find(t.model);
  batcher_options opts;
  opts.model = m->config;
  opts.version = t.version;
  opts.shard = t.shard;
  opts.strategy = st.registry->balance_of(*m);
  opts.outlier = st.cfg.routing.outlier;
  opts.max_retries = st.cfg.max_retries;
  // A worker silent this long is taken for hung: never before the model's
  // own requests may time out.
  opts.batch_timeout =
      std::max(st.cfg.request_timeout, m->config.routing.timeout);
  auto me = caf::actor_cast<router_actor>(self);
  auto b = self->spawn<caf::linked>(batcher, st.coord, me, opts);
  return st.batchers.emplace(t, router_state::batcher_entry{b, 0, false})
      .first->second;
}

/// Resolutions of one `route` call: the requests of one read usually
/// share model and version, so each (model, version) is resolved once and
/// each of its shards' batchers is looked up once.
class route_memo {
public:
  explicit route_memo(router_state& st) : st_(st) {
    // nop
  }

  /// Returns the resolution of `r`'s model and version.
  const model_registry::decision& resolve(const client_request& r) {
    if (!valid_ || t_.model != r.model || version_ != r.version) {
      valid_ = true;
      version_ = r.version;
      d_ = st_.registry->resolve(r.model, r.version);
      t_.model = r.model;
      t_.version = d_.version;
      shards_.clear();
      needs_key_ = d_.entry != nullptr &&
                   (d_.entry->config.routing.shards > 1 ||
                    balancer_uses_key(st_.registry->balance_of(*d_.entry)));
    }
    return d_;
  }

  /// Returns whether the last resolution's model needs a key hash: it has
  /// shards, or a key-based strategy picks its workers.
  bool needs_key() const noexcept { return needs_key_; }

  /// Returns the batcher of `shard` for the last resolution, or null.
  router_state::batcher_entry* batcher(uint32_t shard) {
    for (auto& [s, e] : shards_)
      if (s == shard)
        return e;
    t_.shard = shard;
    auto i = st_.batchers.find(t_);
    auto e = i != st_.batchers.end() ? &i->second : nullptr;
    shards_.emplace_back(shard, e);
    return e;
  }

private:
  router_state& st_;
  bool valid_ = false;
  bool needs_key_ = false;
  uint32_t version_ = 0;
  model_registry::decision d_;
  route_target t_;
  std::vector<std::pair<uint32_t, router_state::batcher_entry*>> shards_;
};

/// Routes each request to its batcher; answers what cannot be routed.
void route(self_ptr self, std::vector<client_request>& reqs) {
  auto& st = self->state;
  // Requests of one read usually share a model and a batcher: while they
  // do, they stay where they are and the whole vector goes on (no move per
  // request); the first that does not splits them into groups, without a
  // map.
  std::vector<std::pair<batcher_actor, std::vector<client_request>>> out;
  std::vector<client_reply> rejected;
  route_memo memo{st};
  batcher_actor whole; // every request so far goes here, in place
  bool split = false;
  auto group = [&](const batcher_actor& hdl) -> std::vector<client_request>& {
    auto j = std::find_if(out.begin(), out.end(),
                          [&](auto& x) { return x.first == hdl; });
    if (j == out.end()) {
      out.emplace_back(hdl, std::vector<client_request>{});
      out.back().second.reserve(reqs.size());
      j = out.end() - 1;
    }
    return j->second;
  };
  for (size_t i = 0; i < reqs.size(); ++i) {
    auto& r = reqs[i];
    auto d = memo.resolve(r);
    if (d.code == errc::none) {
      auto& rt = d.entry->config.routing;
      if (rt.schema != schema_type::any || !rt.schema_keys.empty())
        if (auto msg = check_inputs(rt, r.inputs); !msg.empty()) {
          d.code = errc::invalid_input;
          d.message = "model `" + r.model + "`: " + msg;
        }
    }
    const router_state::batcher_entry* target = nullptr;
    if (d.code == errc::none) {
      if (r.key_hash == 0 && memo.needs_key())
        r.key_hash = request_key_hash(r);
      st.registry->route(d, r.key_hash, [&](uint32_t shard) {
        auto e = memo.batcher(shard);
        return e != nullptr && !e->empty;
      });
      if (d.code == errc::none)
        target = memo.batcher(d.shard);
    }
    if (d.code == errc::none) {
      // `deadline_ms` is final here: the coordinator chose it (the
      // request's, else the model's `timeout-ms`, else the node's).
      r.version = d.version;
      if (!split && (i == 0 || target->hdl == whole)) {
        whole = target->hdl;
        continue;
      }
    }
    if (!split) { // requests [0, i) all go to `whole`
      split = true;
      if (i > 0) {
        auto& g = group(whole);
        for (size_t k = 0; k < i; ++k)
          g.push_back(std::move(reqs[k]));
      }
    }
    if (d.code != errc::none)
      rejected.push_back(error_reply(r.id, d.code, std::move(d.message)));
    else
      group(target->hdl).push_back(std::move(r));
  }
  if (!split && !reqs.empty())
    self->send(whole, std::move(reqs));
  for (auto& [b, rs] : out)
    self->send(b, std::move(rs));
  if (!rejected.empty())
    self->send(st.coord, std::move(rejected));
}

/// Tells the coordinator the default version of every model when it
/// changed since the last time.
void publish_versions(self_ptr self) {
  auto& st = self->state;
  if (!st.coord)
    return;
  auto vs = st.registry->default_versions();
  if (vs == st.versions_sent)
    return;
  st.versions_sent = vs;
  self->send(st.coord, std::move(vs));
}

/// Removes the worker at `i`: its batchers retry its batches (`lost`) or
/// let them finish (`drain`).
void remove_worker(self_ptr self,
                   std::vector<router_state::worker_entry>::iterator i,
                   bool drain, const std::string& why) {
  auto& st = self->state;
  caf::aout(self) << "router: worker " << i->info.name << " "
                  << (drain ? "draining" : "lost") << ": " << why << std::endl;
  for (auto& t : st.registry->withdraw(i->id)) {
    auto b = st.batchers.find(t);
    if (b == st.batchers.end())
      continue;
    if (drain)
      self->send(b->second.hdl, drain_atom::value, i->hdl);
    else
      self->send(b->second.hdl, lost_atom::value, i->hdl, why);
  }
  self->demonitor(i->hdl.address());
  st.workers.erase(i);
  publish_versions(self);
}

std::string describe_targets(const std::vector<route_target>& ts) {
  std::string out;
  for (auto& t : ts) {
    out += out.empty() ? "" : ", ";
    out += t.model + " v" + std::to_string(t.version) + "/" +
           std::to_string(t.shard);
  }
  return out;
}

uint64_t do_register(self_ptr self, worker_info& info, worker_actor& w) {
  auto& st = self->state;
  for (auto& e : st.workers)
    if (e.hdl == w)
      return e.id; // a repeated registration is idempotent
  self->monitor(w);
  router_state::worker_entry e;
  e.hdl = w;
  e.id = st.next_worker_id++;
  e.seen = clock::now();
  e.local = w.node() == self->node();
  std::vector<std::string> skipped;
  auto targets = st.registry->declare(e.id, info.name, info.models, &skipped);
  for (auto& s : skipped)
    caf::aout(self) << "router: worker " << info.name << " declares " << s
                    << ": ignored" << std::endl;
  for (auto& t : targets) {
    auto& b = ensure_batcher(self, t);
    ++b.joins;
    b.empty = false;
    self->send(b.hdl, worker_atom::value, w, info.name, info.capacity);
  }
  caf::aout(self) << "router: worker " << info.name << " registered ("
                  << describe_targets(targets) << ")" << std::endl;
  e.info = std::move(info);
  st.workers.push_back(std::move(e));
  publish_versions(self);
  return st.workers.back().id;
}

/// Offers worker `e` again to the batchers of what it serves (of `model`
/// only, unless empty): a batcher drops a worker from its pool when the
/// worker gave up on the model, and a fault hook turned `off` revives the
/// model on the worker. A batcher ignores a worker already in its pool.
void rejoin(self_ptr self, const router_state::worker_entry& e,
            const std::string& model) {
  auto& st = self->state;
  for (auto& t : st.registry->targets_of(e.id)) {
    if (!model.empty() && t.model != model)
      continue;
    auto b = st.batchers.find(t);
    if (b == st.batchers.end())
      continue;
    ++b->second.joins;
    b->second.empty = false;
    self->send(b->second.hdl, worker_atom::value, e.hdl, e.info.name,
               e.info.capacity);
  }
}

/// Removes remote workers whose heartbeats stopped.
void check_heartbeats(self_ptr self) {
  auto& st = self->state;
  auto k = st.cfg.routing.missed_heartbeats;
  if (k == 0)
    return;
  auto limit = st.cfg.heartbeat_interval * k;
  auto now = clock::now();
  for (size_t i = 0; i < st.workers.size();) {
    auto& e = st.workers[i];
    if (!e.local && now - e.seen > limit) {
      remove_worker(self, st.workers.begin() + static_cast<ptrdiff_t>(i), false,
                    "missed " + std::to_string(k) + " heartbeats");
      continue;
    }
    ++i;
  }
}

caf::result<cluster_stats> collect_stats(self_ptr self) {
  auto& st = self->state;
  auto rp = self->make_response_promise<cluster_stats>();
  auto acc = std::make_shared<cluster_stats>();
  acc->models = st.registry->describe();
  for (auto& e : st.workers) {
    worker_stats ws;
    ws.name = e.info.name;
    for (auto& m : e.info.models)
      ws.models.push_back(m.name);
    ws.cpu_us = e.last.cpu_us;
    ws.rss_bytes = e.last.rss_bytes;
    ws.restarts = e.last.restarts;
    acc->workers.push_back(std::move(ws));
  }
  auto weights = std::make_shared<std::vector<double>>(acc->workers.size());
  auto left = std::make_shared<size_t>(st.batchers.size());
  if (*left == 0) {
    rp.deliver(*acc);
    return rp;
  }
  auto merge = [=](batcher_stats& bs) mutable {
    for (auto& w : bs.workers)
      for (size_t i = 0; i < acc->workers.size(); ++i) {
        auto& ws = acc->workers[i];
        if (ws.name != w.name)
          continue;
        // Latency: the average over batchers, weighted by batches.
        auto total = (*weights)[i] + static_cast<double>(w.batches);
        if (total > 0)
          ws.latency_us = static_cast<uint64_t>(
              (static_cast<double>(ws.latency_us) * (*weights)[i] +
               static_cast<double>(w.latency_us) * w.batches) /
              total);
        (*weights)[i] = total;
        ws.batches += w.batches;
        ws.items += w.items;
        ws.failures += w.failures;
        ws.outstanding += w.outstanding;
        ws.ejections += w.ejections;
        ws.ejected = ws.ejected || w.ejected;
        ws.outlier =
            static_cast<uint8_t>(worse(static_cast<outlier_state>(ws.outlier),
                                       static_cast<outlier_state>(w.outlier)));
        // One session per model serves all its batchers (versions,
        // shards): each reports the same pool, so never add them up.
        if (w.kv_blocks_total > 0) {
          ws.kv_blocks_total = std::max(ws.kv_blocks_total, w.kv_blocks_total);
          ws.kv_blocks_used = std::max(ws.kv_blocks_used, w.kv_blocks_used);
          ws.seqs_running = std::max(ws.seqs_running, w.seqs_running);
          ws.seqs_waiting = std::max(ws.seqs_waiting, w.seqs_waiting);
        }
      }
    acc->batchers.push_back(std::move(bs));
    if (--*left == 0)
      rp.deliver(*acc);
  };
  for (auto& [t, b] : st.batchers)
    self->request(b.hdl, std::chrono::seconds{2}, stats_atom::value)
        .then([=](batcher_stats& bs) mutable { merge(bs); },
              [=](caf::error&) mutable {
                batcher_stats empty;
                merge(empty);
              });
  return rp;
}

} // namespace

router_actor::behavior_type router(self_ptr self, node_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.registry = std::make_unique<model_registry>(st.cfg.model_table,
                                                 st.cfg.routing.balance);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& ws = self->state.workers;
    for (auto i = ws.begin(); i != ws.end(); ++i)
      if (i->hdl.address() == dm.source) {
        remove_worker(self, i, false, caf::to_string(dm.reason));
        return;
      }
  });
  self->delayed_send(self, st.cfg.heartbeat_interval, tick_atom::value);
  return {
      [=](coordinator_actor& coord) {
        self->state.coord = std::move(coord);
        self->state.versions_sent.clear();
        publish_versions(self);
      },
      [=](std::vector<client_request>& reqs) { route(self, reqs); },
      [=](cancel_atom, std::string& model, uint64_t rid) {
        // The coordinator does not know which batcher holds it.
        for (auto& [t, b] : self->state.batchers)
          if (t.model == model)
            self->send(b.hdl, cancel_atom::value, rid);
      },
      [=](reroute_atom, uint64_t joins, std::vector<client_request>& reqs) {
        // A batcher found its pool empty: unless a worker was sent to it
        // since, treat its shard as unserved until the next join.
        auto& st = self->state;
        for (auto& [t, b] : st.batchers)
          if (b.hdl.address() == self->current_sender() && b.joins == joins)
            b.empty = true;
        route(self, reqs);
      },
      [=](register_atom, worker_info& info,
          worker_actor& w) -> caf::result<uint64_t> {
        // Checked before anything else, a repeated registration included.
        if (!join_allowed(self->state.cfg.security.cluster_token, info.token)) {
          caf::aout(self) << "router: refused worker " << info.name
                          << " from node " << caf::to_string(w.node())
                          << ": wrong cluster token" << std::endl;
          return make_error(errc::forbidden,
                            "join refused: wrong cluster token");
        }
        info.token.clear();
        return do_register(self, info, w);
      },
      [=](fault_atom, fault_spec& spec) {
        std::vector<std::string> affected;
        for (auto& e : self->state.workers) {
          if (!spec.worker.empty() && spec.worker != e.info.name)
            continue;
          bool serves = spec.model.empty();
          for (auto& m : e.info.models)
            serves = serves || m.name == spec.model;
          if (!serves)
            continue;
          self->send(e.hdl, fault_atom::value, spec);
          affected.push_back(e.info.name);
          if (spec.kind == fault_kind::off)
            rejoin(self, e, spec.model);
        }
        return affected;
      },
      [=](drain_atom, worker_actor& w) {
        auto& ws = self->state.workers;
        for (auto i = ws.begin(); i != ws.end(); ++i)
          if (i->hdl == w) {
            remove_worker(self, i, true, "deregistered");
            break;
          }
        return true;
      },
      [=](heartbeat_atom, heartbeat& hb) {
        bool known = false;
        for (auto& e : self->state.workers)
          if (e.info.name == hb.name) {
            e.seen = clock::now();
            e.last = hb;
            known = true;
          }
        // A worker removed for silence (or before a coordinator restart)
        // that is alive after all: ask it to register again.
        if (!known && self->current_sender())
          caf::anon_send(caf::actor_cast<caf::actor>(self->current_sender()),
                         register_atom::value);
      },
      [=](tick_atom) {
        check_heartbeats(self);
        self->delayed_send(self, self->state.cfg.heartbeat_interval,
                           tick_atom::value);
      },
      [=](stats_atom) { return collect_stats(self); },
  };
}

} // namespace dine
