#include "actors/front/client_listener.hpp"
#include "actors/front/client_tls.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <memory>

#include "messages/errc.hpp"
#include "runtime/conn_limits.hpp"
#include "runtime/error_reply.hpp"
#include "runtime/frame.hpp"
#include "runtime/front_stats.hpp"
#include "runtime/memory_budget.hpp"
#include "runtime/slow_client.hpp"
#include "runtime/stage_times.hpp"
#include "runtime/wire.hpp"

namespace dine {

namespace {

using resume_atom = caf::atom_constant<caf::atom("resume")>;
using shed_atom = caf::atom_constant<caf::atom("shed")>;
using linger_atom = caf::atom_constant<caf::atom("linger")>;
using slow_atom = caf::atom_constant<caf::atom("slow")>;

/// How long a closed connection waits at most for the replies to its
/// requests in flight, whose bytes it keeps in the memory budget.
constexpr auto linger_bound = std::chrono::seconds{60};

/// What the acceptor and all its connections share.
struct front_shared {
  front_shared(size_t budget_limit, std::shared_ptr<front_stats> st)
      : budget(budget_limit),
        stats(st ? std::move(st) : std::make_shared<front_stats>()) {
    // nop
  }
  memory_budget budget;
  std::shared_ptr<front_stats> stats; ///< Shared with the HTTP port.
  /// Forwards `(shed_atom, ids)` to connections (weak: no cycle).
  caf::actor_addr acceptor;
};

using shared_ptr = std::shared_ptr<front_shared>;

/// Bytes read while halted are not decoded: CAF's stream keeps reading up
/// to `middleman.max-consecutive-reads` times (50 by default) in the event
/// in which the broker halts it. They wait here, and are decoded in
/// read-sized chunks when the connection resumes.
constexpr size_t read_size = 8192;

struct connection_state {
  frame_reader reader;
  std::vector<client_request> batch;
  std::vector<char> parked; ///< Read while halted, not decoded yet.
  size_t parked_at = 0;     ///< Decoded up to here.
  int64_t parked_mark = 0;  ///< When the oldest parked byte was read.
  uint32_t inflight = 0;
  bool halted = false;
  bool resume_pending = false;
  bool announced = false; ///< Told the coordinator it closed.
  uint64_t id = 0;        ///< Holder id in the memory budget.
  key_role role = key_role::admin;
  bool closing = false;      ///< Refused: read nothing more, then close.
  bool gone = false;         ///< Socket closed: waits for in-flight replies.
  size_t inflight_bytes = 0; ///< Request bodies sent on, not answered.
  size_t unsent = 0;         ///< Reply bytes not written to the socket.
  std::vector<uint64_t> stats_ids; ///< `stats` requests in flight.
  bool served = false;             ///< Forwarded a request other than `health`.
  slow_client slow{0, 0, false, 0}; ///< Handshake and frame bounds.
  bool slow_timer = false;          ///< A `slow_atom` is on its way.

  static inline const char* name = "dine.connection";
};

using conn_ptr = caf::io::stateful_broker<connection_state>*;

void write_error(conn_ptr self, caf::io::connection_handle hdl, uint64_t id,
                 errc code, std::string msg) {
  append_reply(self->wr_buf(hdl), error_reply(id, code, std::move(msg)));
}

/// Reports the bytes this connection holds to the node's budget; asks the
/// acceptor to shed the connections the budget picked.
void account(conn_ptr self, const shared_ptr& sh) {
  if (sh->budget.limit() == 0)
    return;
  auto& st = self->state;
  auto held = st.gone
                  ? st.inflight_bytes
                  : st.reader.buffered() + (st.parked.size() - st.parked_at) +
                        st.inflight_bytes + st.unsent;
  auto victims = sh->budget.update(st.id, held);
  if (!victims.empty())
    if (auto acc = caf::actor_cast<caf::actor>(sh->acceptor))
      self->send(acc, shed_atom::value, std::move(victims));
}

/// Counts `n` final replies: fewer requests and bytes in flight (an
/// estimate: the mean body size per request).
void settle(connection_state& st, uint32_t n) {
  if (st.inflight > 0 && n > 0)
    st.inflight_bytes -=
        st.inflight_bytes / st.inflight * std::min(n, st.inflight);
  st.inflight = st.inflight > n ? st.inflight - n : 0;
  if (st.inflight == 0)
    st.inflight_bytes = 0;
}

/// Tells the coordinator that this connection closed, with high priority
/// so that it overtakes the batches this connection sent before and that
/// may still wait in the coordinator's mailbox (a flood): those are then
/// dropped unrun and answered here as settled (docs/design.md,
/// "Connections that close"); its streams stop at their next step.
void announce_close(conn_ptr self, const coordinator_actor& coord) {
  if (self->state.announced)
    return;
  self->state.announced = true;
  self->send<caf::message_priority::high>(coord, cancel_atom::value);
}

/// Ends a connection whose socket is closed. With requests in flight, it
/// stays until they are answered (or `linger_bound`): their bytes are still
/// in memory and stay in the budget until then; the replies are dropped.
void linger_or_quit(conn_ptr self, const shared_ptr& sh) {
  auto& st = self->state;
  if (st.inflight == 0) {
    self->quit();
    return;
  }
  if (st.gone)
    return;
  st.gone = true;
  st.reader = frame_reader{0};
  st.parked = {};
  st.parked_at = 0;
  st.unsent = 0;
  account(self, sh);
  self->delayed_send(self, linger_bound, linger_atom::value);
}

/// Answers a request the connection handles itself: `hello`, or one its
/// key does not allow. Returns false when the connection must close.
bool answer_locally(conn_ptr self, caf::io::connection_handle hdl,
                    const listener_options& opts, front_shared& sh,
                    client_request& req) {
  auto& st = self->state;
  client_reply r;
  r.id = req.id;
  if (req.error != 0 && st.role != key_role::none) {
    r.code = req.error; // a malformed hello
    r.message = std::move(req.error_message);
  } else if (req.op == op_code::hello && req.error == 0) {
    auto role = opts.keys && opts.keys->enabled() ? opts.keys->check(req.auth)
                                                  : key_role::admin;
    req.auth.clear();
    if (role != key_role::none) {
      st.role = role;
      r.outputs = encode_role(role);
    } else {
      ++sh.stats->unauthorized;
      r.code = static_cast<uint8_t>(errc::unauthorized);
      r.message = "wrong API key";
    }
  } else if (st.role == key_role::none) {
    ++sh.stats->unauthorized;
    r.code = static_cast<uint8_t>(errc::unauthorized);
    r.message = "this node needs an API key: send a `hello` frame with "
                "`auth` first";
  } else {
    ++sh.stats->forbidden;
    r.code = static_cast<uint8_t>(errc::forbidden);
    r.message =
        std::string{"op `"} + to_string(req.op) + "` needs an admin key";
  }
  append_reply(self->wr_buf(hdl), r);
  return r.code != static_cast<uint8_t>(errc::unauthorized);
}

/// Answers a request read while this coordinator does not lead.
void refuse_not_leader(conn_ptr self, caf::io::connection_handle hdl,
                       const listener_options& opts, uint64_t id) {
  auto leader = opts.gate->status().leader_value;
  write_error(self, hdl, id, errc::not_leader,
              "this coordinator does not lead cluster " + opts.cluster +
                  (leader.empty() ? std::string{" (no leader known)"}
                                  : " (leader: " + leader + ")"));
}

/// Closes the connection at once (a deposed leader's).
void close_now(conn_ptr self, caf::io::connection_handle hdl,
               const coordinator_actor& coord, const shared_ptr& sh) {
  if (self->state.gone)
    return;
  self->close(hdl);
  announce_close(self, coord);
  linger_or_quit(self, sh); // its replies are dropped
}

/// Schedules one `slow_atom` for when `st.slow` may next close the
/// connection (docs/security.md, "Slow clients"): at most one is on its
/// way per connection, none while nothing is pending.
void arm_slow(conn_ptr self, int64_t now) {
  auto& st = self->state;
  if (st.slow_timer)
    return;
  auto at = st.slow.next_check();
  if (at == 0)
    return;
  st.slow_timer = true;
  auto wait = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::nanoseconds{std::max<int64_t>(at - now, 0)});
  self->delayed_send(self, wait + std::chrono::milliseconds{1},
                     slow_atom::value);
}

/// Halts reading when a limit is reached; resumes (via a message to self,
/// see docs/design.md, CAF 0.17 facts, on trigger-after-halt) once both
/// are below half.
void check_backpressure(conn_ptr self, caf::io::connection_handle hdl,
                        const listener_options& opts) {
  auto& st = self->state;
  auto wr = self->wr_buf(hdl).size();
  if (!st.halted) {
    if (st.inflight >= opts.max_inflight || wr > opts.max_write_buffer) {
      st.halted = true;
      st.slow.suspend();
      self->ack_writes(hdl, true);
      self->halt(hdl);
    }
    return;
  }
  if (!st.resume_pending && st.inflight <= opts.max_inflight / 2 &&
      wr <= opts.max_write_buffer / 2) {
    st.resume_pending = true;
    self->send(self, resume_atom::value);
  }
}

/// Decodes the frames in `[p, p + n)`, read at mark `read`, and sends them
/// to the coordinator as one batch. Returns false after a length prefix
/// above the maximum: the connection is then answered, closed and the
/// broker quits.
bool take(conn_ptr self, caf::io::connection_handle hdl,
          const coordinator_actor& coord, const listener_options& opts,
          const shared_ptr& sh, const char* p, size_t n, int64_t read) {
  auto& st = self->state;
  bool local = false;
  auto ok = st.reader.consume(p, n, [&](const char* body, size_t len) {
    if (st.closing)
      return;
    st.batch.emplace_back();
    auto& req = st.batch.back();
    decode_new_request(body, len, req);
    if (req.op == op_code::hello || st.role == key_role::none ||
        !api_keys::allows(st.role, req.op)) {
      local = true;
      st.closing = !answer_locally(self, hdl, opts, *sh, req);
      st.batch.pop_back();
      return;
    }
    if (opts.gate && req.op != op_code::health) {
      if (!opts.gate->serving(read)) {
        local = true;
        refuse_not_leader(self, hdl, opts, req.id);
        st.batch.pop_back();
        return;
      }
      st.served = true;
    }
    if (req.op == op_code::stats && req.error == 0)
      st.stats_ids.push_back(req.id);
    // A request's bytes live on while it runs: decoded in the coordinator,
    // the worker's inputs and its reply (measured: about 3x the body).
    st.inflight_bytes += 3 * len;
  });
  if (!st.batch.empty()) {
    // The whole read goes to the coordinator at once: its frames are
    // decoded (and start waiting) together; one clock read per read.
    auto decoded = mark_now();
    for (auto& r : st.batch) {
      r.marks.read = read;
      r.marks.decoded = decoded;
    }
    auto k = st.batch.size();
    st.inflight += static_cast<uint32_t>(k);
    self->send(coord, std::move(st.batch));
    st.batch = {};
    st.batch.reserve(std::min(k, size_t{256})); // reads repeat
  }
  if (!ok) {
    ++sh->stats->too_large;
    write_error(self, hdl, 0, errc::frame_too_large,
                "frame length " + std::to_string(st.reader.rejected_length()) +
                    " exceeds the maximum of " +
                    std::to_string(opts.max_frame) + " bytes");
  }
  if (!ok || st.closing) {
    self->flush(hdl);
    self->close(hdl);
    announce_close(self, coord);
    linger_or_quit(self, sh);
    return false;
  }
  if (local)
    self->flush(hdl);
  account(self, sh);
  return true;
}

/// Decodes parked bytes a read at a time until they are used up or the
/// connection halts again. Returns false if the connection was closed.
bool take_parked(conn_ptr self, caf::io::connection_handle hdl,
                 const coordinator_actor& coord, const listener_options& opts,
                 const shared_ptr& sh) {
  auto& st = self->state;
  while (!st.halted && st.parked_at < st.parked.size()) {
    auto n = std::min(read_size, st.parked.size() - st.parked_at);
    if (!take(self, hdl, coord, opts, sh, st.parked.data() + st.parked_at, n,
              st.parked_mark))
      return false;
    st.parked_at += n;
    check_backpressure(self, hdl, opts);
  }
  if (st.parked_at == st.parked.size()) {
    st.parked.clear();
    st.parked_at = 0;
  }
  return true;
}

caf::behavior connection(conn_ptr self, caf::io::connection_handle hdl,
                         coordinator_actor coord, listener_options opts,
                         shared_ptr sh, uint64_t id) {
  auto& st0 = self->state;
  st0.reader = frame_reader{opts.max_frame};
  st0.id = id;
  st0.role = opts.keys ? opts.keys->initial_role() : key_role::admin;
  auto opened = mark_now();
  auto ns = [](std::chrono::milliseconds x) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(x).count();
  };
  st0.slow = slow_client{ns(opts.handshake_timeout), ns(opts.frame_timeout),
                         static_cast<bool>(opts.tls), opened};
  arm_slow(self, opened);
  auto budget_on = sh->budget.limit() != 0;
  if (budget_on) // unsent bytes come from data_transferred_msg
    self->ack_writes(hdl, true);
  self->configure_read(hdl, caf::io::receive_policy::at_most(read_size));
  return {
      [=](const caf::io::new_data_msg& msg) {
        // CAF calls this on the multiplexer thread right after the read.
        auto read = mark_now();
        auto& st = self->state;
        if (st.gone)
          return;
        if (st.halted || !st.parked.empty()) {
          // At most max-consecutive-reads reads arrive after a halt.
          if (st.parked.empty())
            st.parked_mark = read;
          st.parked.insert(st.parked.end(), msg.buf.begin(), msg.buf.end());
          account(self, sh);
          return;
        }
        if (!take(self, hdl, coord, opts, sh, msg.buf.data(), msg.buf.size(),
                  read))
          return;
        // Plaintext arrived, so a TLS handshake is over; a partial frame
        // starts its clock (one comparison per read).
        st.slow.handshake_done();
        st.slow.on_read(st.reader.buffered() > 0, read);
        arm_slow(self, read);
        check_backpressure(self, hdl, opts);
      },
      [=](std::vector<client_reply>& replies) {
        auto& st = self->state;
        auto end = mark_now();
        if (!st.gone && opts.gate && st.served && !opts.gate->replying(end))
          // The lease is gone: the new leader may answer these requests.
          close_now(self, hdl, coord, sh);
        if (st.gone) {
          uint32_t n = 0;
          for (auto& r : replies)
            n += r.frame != reply_frame::chunk ? 1 : 0;
          settle(st, n);
          account(self, sh);
          if (st.inflight == 0)
            self->quit();
          return;
        }
        auto& buf = self->wr_buf(hdl);
        auto before = buf.size();
        uint32_t n = 0; // final replies: a stream's chunks are not
        for (auto& r : replies) {
          if (r.frame != reply_frame::chunk)
            fill_stage_times(r.marks, end, r.times);
          if (!st.stats_ids.empty() && r.frame == reply_frame::single) {
            auto i = std::find(st.stats_ids.begin(), st.stats_ids.end(), r.id);
            if (i != st.stats_ids.end()) {
              st.stats_ids.erase(i);
              if (r.code == 0)
                add_front_stats(r.outputs, *sh->stats, sh->budget.total(),
                                sh->budget.limit());
            }
          }
          append_reply(buf, r);
          n += r.frame != reply_frame::chunk ? 1 : 0;
        }
        settle(st, n);
        st.unsent += buf.size() - before;
        self->flush(hdl);
        account(self, sh);
        check_backpressure(self, hdl, opts);
      },
      [=](const caf::io::data_transferred_msg& msg) {
        if (self->state.gone)
          return;
        self->state.unsent = msg.remaining;
        account(self, sh);
        check_backpressure(self, hdl, opts);
      },
      [=](shed_atom) {
        // Picked by the budget (largest holder). A client that does not
        // read its replies would keep a graceful close waiting with the
        // buffers full, and one that only sends would never notice: shut
        // the socket down, the stream then fails and frees them (CAF 0.17:
        // a connection handle's id is its socket). The broker itself may
        // linger for its requests in flight.
        if (self->state.gone)
          return; // closed already, its bytes leave as its replies come
        ++sh->stats->shed;
        write_error(self, hdl, 0, errc::memory_budget_exceeded,
                    "the node's memory-budget-bytes is spent and this "
                    "connection held the most");
        self->flush(hdl);
        ::shutdown(static_cast<int>(hdl.id()), SHUT_RDWR);
        self->close(hdl);
        announce_close(self, coord);
        linger_or_quit(self, sh);
      },
      [=](linger_atom) { self->quit(); },
      [=](slow_atom) {
        // A handshake or a frame may be overdue (docs/security.md, "Slow
        // clients"): close the connection, or look again later.
        auto& st = self->state;
        st.slow_timer = false;
        if (st.gone || st.closing)
          return;
        auto fd = static_cast<int>(hdl.id()); // CAF 0.17: the socket
        if (st.slow.handshake_pending() && !client_tls_handshake_pending(fd))
          st.slow.handshake_done();
        auto now = mark_now();
        auto verdict = st.slow.check(now);
        if (verdict == slow_verdict::keep) {
          arm_slow(self, now);
          return;
        }
        if (verdict == slow_verdict::handshake) {
          // Nothing can be said in plaintext: just drop the socket.
          ++sh->stats->handshake_timeouts;
          ::shutdown(fd, SHUT_RDWR);
        } else {
          ++sh->stats->stalled_frames;
          write_error(
              self, hdl, 0, errc::deadline_exceeded,
              "a frame did not arrive within client-frame-timeout-ms (" +
                  std::to_string(opts.frame_timeout.count()) + " ms): closed");
          self->flush(hdl);
        }
        st.closing = true;
        self->close(hdl);
        announce_close(self, coord);
        linger_or_quit(self, sh);
      },
      [=](resume_atom) {
        auto& st = self->state;
        st.resume_pending = false;
        if (!st.halted || st.gone)
          return;
        st.halted = false;
        if (!budget_on)
          self->ack_writes(hdl, false);
        if (!take_parked(self, hdl, coord, opts, sh))
          return;
        if (!st.halted) {
          auto now = mark_now(); // a partial frame's clock restarts
          st.slow.resume(st.reader.buffered() > 0, now);
          arm_slow(self, now);
          self->trigger(hdl);
        }
      },
      [=](fence_atom) { close_now(self, hdl, coord, sh); },
      [=](sync_atom) {
        // Every message sent here before this one has been handled: its
        // replies are in the write buffer, which closing still sends.
        return true;
      },
      [=](const caf::io::connection_closed_msg&) {
        announce_close(self, coord);
        linger_or_quit(self, sh);
      },
  };
}

} // namespace

caf::behavior client_acceptor(caf::io::broker* self, coordinator_actor coord,
                              listener_options opts) {
  struct conn_entry {
    caf::actor hdl;
    std::string addr;
    uint64_t id;
  };
  auto doorman = std::make_shared<caf::io::accept_handle>();
  auto conns = std::make_shared<std::vector<conn_entry>>();
  auto draining = std::make_shared<bool>(false);
  auto limits =
      std::make_shared<conn_limits>(opts.max_connections, opts.max_per_address);
  auto sh = std::make_shared<front_shared>(opts.memory_budget, opts.stats);
  sh->acceptor = self->address();
  auto next_id = std::make_shared<uint64_t>(0);
  self->set_exit_handler([=](caf::exit_msg& em) {
    // A connection that ended; anything else that failed stops us (and,
    // linked, every connection), as the default handler would.
    auto& cs = *conns;
    auto i = std::find_if(cs.begin(), cs.end(), [&](auto& c) {
      return c.hdl.address() == em.source;
    });
    if (i != cs.end()) {
      limits->release(i->addr);
      sh->budget.remove(i->id);
      sh->stats->open = limits->open();
      cs.erase(i);
    }
    if (em.reason && em.reason != caf::exit_reason::normal)
      self->quit(em.reason);
  });
  return {
      [=](join_atom) -> caf::result<uint16_t> {
        auto res =
            opts.tls
                ? add_tls_doorman(self, opts.port, opts.host, opts.tls)
                : self->add_tcp_doorman(opts.port, opts.host.c_str(), true);
        if (!res)
          return std::move(res.error());
        *doorman = res->first; // drain closes it
        return res->second;
      },
      [=](const caf::io::new_connection_msg& msg) {
        auto addr = self->remote_addr(msg.handle);
        std::string why;
        if (limits->admit(addr, why) != errc::none) {
          // Refused before any byte is read: one error frame, then FIN.
          ++sh->stats->refused;
          client_reply r;
          r.code = static_cast<uint8_t>(errc::too_many_connections);
          r.message = std::move(why);
          append_reply(self->wr_buf(msg.handle), r);
          self->flush(msg.handle);
          self->close(msg.handle);
          return;
        }
        sh->stats->open = limits->open();
        // Linked: stopping the acceptor stops every connection.
        auto id = ++*next_id;
        auto conn = self->fork(connection, msg.handle, coord, opts, sh, id);
        self->link_to(conn);
        conns->push_back(conn_entry{conn, std::move(addr), id});
      },
      [=](shed_atom, const std::vector<uint64_t>& ids) {
        for (auto& c : *conns)
          if (std::find(ids.begin(), ids.end(), c.id) != ids.end())
            self->send(c.hdl, shed_atom::value);
      },
      [=](const caf::io::connection_closed_msg&) {
        // A refused connection's FIN was answered: nothing to do.
      },
      [=](fence_atom) {
        // This coordinator lost its lease: no connection may answer more.
        for (auto& c : *conns)
          self->send(c.hdl, fence_atom::value);
      },
      [=](drain_atom) {
        // Stop accepting; open connections keep being served.
        *draining = true;
        self->close(*doorman);
      },
      [=](sync_atom) -> caf::result<bool> {
        // Answers once every connection handled what was sent to it before
        // (the node asks after the last request was answered, before it
        // stops the connections).
        auto rp = self->make_response_promise<bool>();
        if (conns->empty()) {
          rp.deliver(true);
          return rp;
        }
        auto left = std::make_shared<size_t>(conns->size());
        for (auto& c : *conns)
          self->request(c.hdl, std::chrono::seconds{2}, sync_atom::value)
              .then(
                  [=](bool) mutable {
                    if (--*left == 0)
                      rp.deliver(true);
                  },
                  [=](caf::error&) mutable {
                    if (--*left == 0) // a connection gone or stuck
                      rp.deliver(true);
                  });
        return rp;
      },
      [=](const caf::io::acceptor_closed_msg&) {
        if (!*draining) // the port failed: nothing left to serve
          self->quit();
      },
  };
}

} // namespace dine
