#include "actors/router.hpp"

#include <map>

#include <caf/actor_ostream.hpp>

#include "actors/batcher.hpp"
#include "messages/errc.hpp"

namespace dine {

namespace {

using self_ptr = router_actor::stateful_pointer<router_state>;

batcher_actor ensure_batcher(self_ptr self, const std::string& model) {
  auto& st = self->state;
  if (auto i = st.batchers.find(model); i != st.batchers.end())
    return i->second;
  batcher_options opts;
  if (auto i = st.cfg.model_table.find(model); i != st.cfg.model_table.end())
    opts.model = i->second;
  else
    opts.model.name = model;
  opts.max_retries = st.cfg.max_retries;
  opts.batch_timeout = st.cfg.request_timeout;
  auto b = self->spawn<caf::linked>(batcher, st.coord, opts);
  st.batchers.emplace(model, b);
  return b;
}

} // namespace

router_actor::behavior_type router(self_ptr self, node_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& ws = self->state.workers;
    for (auto i = ws.begin(); i != ws.end(); ++i)
      if (i->hdl.address() == dm.source) {
        caf::aout(self) << "router: worker " << i->info.name
                        << " lost: " << caf::to_string(dm.reason) << std::endl;
        ws.erase(i);
        return;
      }
  });
  return {
      [=](coordinator_actor& coord) { self->state.coord = std::move(coord); },
      [=](std::vector<client_request>& reqs) {
        auto& st = self->state;
        // Requests of one read usually share a model: group without a map.
        std::vector<std::pair<batcher_actor, std::vector<client_request>>> out;
        std::vector<client_reply> rejected;
        for (auto& r : reqs) {
          auto i = st.batchers.find(r.model);
          if (i == st.batchers.end()) {
            client_reply rep;
            rep.id = r.id;
            if (st.cfg.model_table.count(r.model) > 0) {
              rep.code = static_cast<uint8_t>(errc::unavailable);
              rep.message = "no worker serves model `" + r.model + "` now";
            } else {
              rep.code = static_cast<uint8_t>(errc::unknown_model);
              rep.message = "unknown model `" + r.model + "`";
            }
            rejected.push_back(std::move(rep));
            continue;
          }
          auto j = std::find_if(out.begin(), out.end(),
                                [&](auto& x) { return x.first == i->second; });
          if (j == out.end()) {
            out.emplace_back(i->second, std::vector<client_request>{});
            j = out.end() - 1;
          }
          j->second.push_back(std::move(r));
        }
        for (auto& [b, rs] : out)
          self->send(b, std::move(rs));
        if (!rejected.empty())
          self->send(st.coord, std::move(rejected));
      },
      [=](register_atom, worker_info& info, worker_actor& w) -> uint64_t {
        auto& st = self->state;
        for (auto& e : st.workers)
          if (e.hdl == w)
            return e.id; // a repeated registration is idempotent
        self->monitor(w);
        for (auto& m : info.models) {
          auto b = ensure_batcher(self, m.name);
          self->send(b, worker_atom::value, w, info.name, info.capacity);
        }
        router_state::worker_entry e;
        e.hdl = w;
        e.id = st.next_worker_id++;
        e.info = std::move(info);
        st.workers.push_back(std::move(e));
        return st.workers.back().id;
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
        }
        return affected;
      },
      [=](drain_atom, worker_actor& w) {
        auto& st = self->state;
        for (auto i = st.workers.begin(); i != st.workers.end(); ++i)
          if (i->hdl == w) {
            caf::aout(self) << "router: worker " << i->info.name << " draining"
                            << std::endl;
            self->demonitor(w.address());
            st.workers.erase(i);
            break;
          }
        for (auto& [model, b] : st.batchers)
          self->send(b, drain_atom::value, w);
        return true;
      },
      [=](heartbeat_atom, heartbeat& hb) {
        for (auto& e : self->state.workers)
          if (e.info.name == hb.name)
            e.last = std::move(hb);
      },
      [=](stats_atom) -> caf::result<cluster_stats> {
        auto& st = self->state;
        auto rp = self->make_response_promise<cluster_stats>();
        auto acc = std::make_shared<cluster_stats>();
        for (auto& e : st.workers) {
          worker_stats ws;
          ws.name = e.info.name;
          for (auto& m : e.info.models)
            ws.models.push_back(m.name);
          acc->workers.push_back(std::move(ws));
        }
        auto left = std::make_shared<size_t>(st.batchers.size());
        if (*left == 0) {
          rp.deliver(*acc);
          return rp;
        }
        auto merge = [=](batcher_stats& bs) mutable {
          for (auto& w : bs.workers)
            for (auto& ws : acc->workers)
              if (ws.name == w.name) {
                ws.batches += w.batches;
                ws.items += w.items;
                ws.failures += w.failures;
                ws.outstanding += w.outstanding;
              }
          bs.workers.clear();
          acc->batchers.push_back(std::move(bs));
          if (--*left == 0)
            rp.deliver(*acc);
        };
        for (auto& [name, b] : st.batchers)
          self->request(b, std::chrono::seconds{2}, stats_atom::value)
              .then([=](batcher_stats& bs) mutable { merge(bs); },
                    [=](caf::error&) mutable {
                      batcher_stats empty;
                      merge(empty);
                    });
        return rp;
      },
  };
}

} // namespace dine
