#include "actors/front/http_relay.hpp"

#include <caf/send.hpp>

#include "runtime/error_reply.hpp"
#include "runtime/stage_times.hpp"

namespace dine {

namespace {

class relay_backend : public http::backend {
public:
  relay_backend(caf::actor relay, std::shared_ptr<relay_table> table)
      : relay_(std::move(relay)), table_(std::move(table)) {
    // nop
  }

  void submit(client_request req, http::reply_fn on_reply) override {
    {
      std::lock_guard<std::mutex> guard{table_->mtx};
      table_->fns[req.id] = std::move(on_reply);
    }
    caf::anon_send(relay_, std::vector<client_request>{std::move(req)});
  }

private:
  caf::actor relay_;
  std::shared_ptr<relay_table> table_;
};

} // namespace

caf::behavior http_relay(caf::event_based_actor* self, coordinator_actor coord,
                         std::shared_ptr<relay_table> table,
                         std::shared_ptr<leader_gate> gate) {
  return {
      [=](std::vector<client_request>& reqs) {
        if (gate && !gate->serving(mark_now())) {
          std::vector<client_request> pass;
          std::vector<client_reply> refused;
          for (auto& r : reqs)
            if (r.op == op_code::health)
              pass.push_back(std::move(r));
            else
              refused.push_back(
                  error_reply(r.id, errc::not_leader,
                              "this coordinator does not lead its cluster"));
          if (!refused.empty())
            self->send(self, std::move(refused));
          if (pass.empty())
            return;
          reqs = std::move(pass);
        }
        self->send(coord, std::move(reqs)); // replies come back here
      },
      [=](std::vector<client_reply>& replies) {
        if (gate && !gate->replying(mark_now()))
          for (auto& r : replies) // the new leader may be answering it
            if (r.code == 0 && r.frame != reply_frame::chunk)
              r = error_reply(r.id, errc::not_leader,
                              "this coordinator lost the leadership");
        for (auto& r : replies) {
          http::reply_fn fn;
          {
            std::lock_guard<std::mutex> guard{table->mtx};
            auto i = table->fns.find(r.id);
            if (i == table->fns.end())
              continue;
            if (r.frame == reply_frame::chunk) {
              fn = i->second; // more frames follow
            } else {
              fn = std::move(i->second);
              table->fns.erase(i);
            }
          }
          fn(std::move(r));
        }
      },
  };
}

std::shared_ptr<http::backend>
make_relay_backend(caf::actor relay, std::shared_ptr<relay_table> table) {
  return std::make_shared<relay_backend>(std::move(relay), std::move(table));
}

} // namespace dine
