#include "actors/link/leader_watch.hpp"

#include <caf/actor_ostream.hpp>

#include <nlohmann/json.hpp>

#include "messages/errc.hpp"
#include "messages/interfaces.hpp"
#include "runtime/config_parse.hpp"

namespace dine {

bool parse_leader_node(const std::string& value, std::string& host,
                       uint16_t& port) {
  auto j = nlohmann::json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return false;
  auto i = j.find("node");
  if (i == j.end() || !i->is_string())
    return false;
  return parse_endpoint(i->get<std::string>(), host, port) && port != 0 &&
         !host.empty();
}

caf::behavior leader_watch(caf::stateful_actor<leader_watch_state>* self,
                           leader_watch_options opts,
                           std::function<std::vector<caf::actor>()> targets) {
  self->state.etcd = std::make_unique<etcd_client>(opts.etcd, opts.timeout);
  self->send(self, tick_atom::value);
  return {
      [=](tick_atom) {
        auto& st = self->state;
        auto problem = [&](const std::string& what) {
          if (what != st.problem)
            caf::aout(self) << "dine-node: leader watch: " << what << std::endl;
          st.problem = what;
        };
        auto r = st.etcd->get(opts.key);
        std::string host;
        uint16_t port = 0;
        if (!r) {
          problem("etcd: " + classify(r.error()).second);
        } else if (!*r) {
          problem("no leader in " + opts.key + " yet");
        } else if (!parse_leader_node((*r)->value, host, port)) {
          problem("the value of " + opts.key + " names no node endpoint");
        } else {
          if ((*r)->value != st.last)
            caf::aout(self)
                << "dine-node: leader is " << host << ":" << port << std::endl;
          st.last = (*r)->value;
          st.problem.clear();
          for (auto& t : targets())
            if (t)
              self->send(t, leader_atom::value, host, port);
        }
        self->delayed_send(self, opts.poll, tick_atom::value);
      },
  };
}

} // namespace dine
