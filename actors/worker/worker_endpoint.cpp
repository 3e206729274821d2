#include "actors/worker/worker_endpoint.hpp"

#include <algorithm>
#include <memory>
#include <tuple>

namespace dine {

worker_endpoint_actor::behavior_type worker_endpoint(
    worker_endpoint_actor::stateful_pointer<worker_endpoint_state> self,
    worker_info info, worker_actor worker) {
  self->state.info = std::move(info);
  self->state.worker = std::move(worker);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& ls = self->state.links;
    ls.erase(std::remove_if(ls.begin(), ls.end(),
                            [&](auto& l) { return l.address() == dm.source; }),
             ls.end());
  });
  return {
      [=](join_atom,
          caf::actor& link) -> std::tuple<worker_info, worker_actor> {
        auto& st = self->state;
        if (link && std::find(st.links.begin(), st.links.end(), link) ==
                        st.links.end()) {
          self->monitor(link);
          st.links.push_back(link);
        }
        return {st.info, st.worker};
      },
      [=](drain_atom) -> caf::result<bool> {
        auto& st = self->state;
        auto rp = self->make_response_promise<bool>();
        if (st.links.empty()) {
          rp.deliver(true);
          return rp;
        }
        auto left = std::make_shared<size_t>(st.links.size());
        auto all_ok = std::make_shared<bool>(true);
        for (auto& l : st.links)
          self->request(l, std::chrono::seconds{3}, drain_atom::value,
                        st.worker)
              .then(
                  [=](bool ok) mutable {
                    *all_ok = *all_ok && ok;
                    if (--*left == 0)
                      rp.deliver(*all_ok);
                  },
                  [=](caf::error&) mutable {
                    *all_ok = false;
                    if (--*left == 0)
                      rp.deliver(false);
                  });
        return rp;
      },
  };
}

} // namespace dine
