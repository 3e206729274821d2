#include "runtime/failover_client.hpp"

#include <thread>

#include "messages/errc.hpp"
#include "runtime/wire.hpp"

namespace dine {

failover_client::failover_client(std::vector<std::string> addrs,
                                 std::string api_key, duration connect_timeout)
    : addrs_(std::move(addrs)), api_key_(std::move(api_key)),
      connect_timeout_(connect_timeout) {
  if (addrs_.empty())
    addrs_.emplace_back("127.0.0.1:7400");
}

void failover_client::fail_over() {
  conn_.reset();     // closed: nothing it still carries can reach us
  ++tried_in_round_; // a full round of refusals pauses (ensure_connected)
  at_ = (at_ + 1) % addrs_.size();
  ++failovers_;
  resend_ = true;
}

std::string failover_client::ensure_connected(duration budget) {
  auto until = std::chrono::steady_clock::now() + budget;
  std::string last;
  while (!conn_) {
    if (tried_in_round_ >= addrs_.size()) {
      // Every address failed once: wait a little before the next round
      // (a standby takes over within the lease TTL).
      tried_in_round_ = 0;
      if (std::chrono::steady_clock::now() + duration{100} >= until)
        return "no coordinator reachable: " + last;
      std::this_thread::sleep_for(duration{100});
    }
    std::string host;
    uint16_t port = 0;
    auto err = split_host_port(addrs_[at_], host, port);
    if (err.empty()) {
      auto c = std::make_unique<client_conn>();
      err = c->connect(host, port, connect_timeout_);
      if (err.empty() && !api_key_.empty())
        err = c->hello(api_key_, connect_timeout_);
      if (err.empty()) {
        conn_ = std::move(c);
        break;
      }
    }
    last = addrs_[at_] + ": " + err;
    ++tried_in_round_;
    at_ = (at_ + 1) % addrs_.size();
    ++failovers_;
    resend_ = true;
    if (std::chrono::steady_clock::now() >= until)
      return "no coordinator reachable: " + last;
  }
  if (resend_ && !pending_.empty()) {
    std::vector<char> buf;
    for (auto& [id, req] : pending_)
      append_request(buf, req);
    resent_ += pending_.size();
    auto err = conn_->send_frames(buf);
    if (!err.empty()) {
      fail_over();
      return "resending failed: " + err;
    }
  }
  resend_ = false;
  return {};
}

std::string failover_client::send(client_request req) {
  auto id = req.id;
  pending_[id] = std::move(req);
  if (!conn_ || resend_) {
    resend_ = true; // sends it with the rest
    return ensure_connected(connect_timeout_);
  }
  std::vector<char> buf;
  append_request(buf, pending_[id]);
  auto err = conn_->send_frames(buf);
  if (!err.empty()) {
    fail_over();
    return ensure_connected(connect_timeout_);
  }
  return {};
}

std::string failover_client::next(client_reply& out, duration timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    if (now >= until)
      return "timed out";
    auto left = std::chrono::duration_cast<duration>(until - now);
    if (!conn_ || resend_) {
      auto err = ensure_connected(left);
      if (!err.empty()) {
        if (std::chrono::steady_clock::now() >= until)
          return err;
        continue;
      }
    }
    auto err = conn_->read_reply(out, left);
    if (!err.empty()) {
      if (conn_->timed_out())
        return "timed out";
      fail_over(); // closed or broken: resend the pending ones elsewhere
      continue;
    }
    if (out.code == static_cast<uint8_t>(errc::not_leader)) {
      fail_over();
      continue;
    }
    if (out.frame == reply_frame::chunk)
      return {};
    auto i = pending_.find(out.id);
    if (i == pending_.end()) {
      ++strays_; // answered already, or never sent: dropped
      continue;
    }
    pending_.erase(i);
    tried_in_round_ = 0; // this coordinator serves
    return {};
  }
}

} // namespace dine
