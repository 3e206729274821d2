#include "actors/front/client_listener.hpp"

#include <algorithm>
#include <memory>

#include "messages/errc.hpp"
#include "runtime/error_reply.hpp"
#include "runtime/frame.hpp"
#include "runtime/stage_times.hpp"
#include "runtime/wire.hpp"

namespace dine {

namespace {

using resume_atom = caf::atom_constant<caf::atom("resume")>;

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
  bool streams = false; ///< Sent a streamed request: cancel them on close.

  static inline const char* name = "dine.connection";
};

using conn_ptr = caf::io::stateful_broker<connection_state>*;

void write_error(conn_ptr self, caf::io::connection_handle hdl, uint64_t id,
                 errc code, std::string msg) {
  append_reply(self->wr_buf(hdl), error_reply(id, code, std::move(msg)));
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
          const char* p, size_t n, int64_t read) {
  auto& st = self->state;
  auto ok = st.reader.consume(p, n, [&](const char* body, size_t len) {
    st.batch.emplace_back();
    decode_request(body, len, st.batch.back());
    st.streams = st.streams || st.batch.back().stream;
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
    write_error(self, hdl, 0, errc::frame_too_large,
                "frame length " + std::to_string(st.reader.rejected_length()) +
                    " exceeds the maximum of " +
                    std::to_string(opts.max_frame) + " bytes");
    self->flush(hdl);
    self->close(hdl);
    self->quit();
  }
  return ok;
}

/// Decodes parked bytes a read at a time until they are used up or the
/// connection halts again. Returns false if the connection was closed.
bool take_parked(conn_ptr self, caf::io::connection_handle hdl,
                 const coordinator_actor& coord, const listener_options& opts) {
  auto& st = self->state;
  while (!st.halted && st.parked_at < st.parked.size()) {
    auto n = std::min(read_size, st.parked.size() - st.parked_at);
    if (!take(self, hdl, coord, opts, st.parked.data() + st.parked_at, n,
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
                         coordinator_actor coord, listener_options opts) {
  self->state.reader = frame_reader{opts.max_frame};
  self->configure_read(hdl, caf::io::receive_policy::at_most(read_size));
  return {
      [=](const caf::io::new_data_msg& msg) {
        // CAF calls this on the multiplexer thread right after the read.
        auto read = mark_now();
        auto& st = self->state;
        if (st.halted || !st.parked.empty()) {
          // At most max-consecutive-reads reads arrive after a halt.
          if (st.parked.empty())
            st.parked_mark = read;
          st.parked.insert(st.parked.end(), msg.buf.begin(), msg.buf.end());
          return;
        }
        if (!take(self, hdl, coord, opts, msg.buf.data(), msg.buf.size(), read))
          return;
        check_backpressure(self, hdl, opts);
      },
      [=](std::vector<client_reply>& replies) {
        auto& st = self->state;
        auto& buf = self->wr_buf(hdl);
        uint32_t n = 0; // final replies: a stream's chunks are not
        auto end = mark_now();
        for (auto& r : replies) {
          if (r.frame != reply_frame::chunk)
            fill_stage_times(r.marks, end, r.times);
          append_reply(buf, r);
          n += r.frame != reply_frame::chunk ? 1 : 0;
        }
        st.inflight = st.inflight > n ? st.inflight - n : 0;
        self->flush(hdl);
        check_backpressure(self, hdl, opts);
      },
      [=](const caf::io::data_transferred_msg&) {
        check_backpressure(self, hdl, opts);
      },
      [=](resume_atom) {
        auto& st = self->state;
        st.resume_pending = false;
        if (!st.halted)
          return;
        st.halted = false;
        self->ack_writes(hdl, false);
        if (!take_parked(self, hdl, coord, opts))
          return;
        if (!st.halted)
          self->trigger(hdl);
      },
      [=](sync_atom) {
        // Every message sent here before this one has been handled: its
        // replies are in the write buffer, which closing still sends.
        return true;
      },
      [=](const caf::io::connection_closed_msg&) {
        if (self->state.streams) // their sequences stop at the next step
          self->send(coord, cancel_atom::value);
        self->quit();
      },
  };
}

} // namespace

caf::behavior client_acceptor(caf::io::broker* self, coordinator_actor coord,
                              listener_options opts) {
  auto doorman = std::make_shared<caf::io::accept_handle>();
  auto conns = std::make_shared<std::vector<caf::actor>>();
  auto draining = std::make_shared<bool>(false);
  self->set_exit_handler([=](caf::exit_msg& em) {
    // A connection that ended; anything else that failed stops us (and,
    // linked, every connection), as the default handler would.
    auto& cs = *conns;
    cs.erase(std::remove_if(cs.begin(), cs.end(),
                            [&](auto& c) { return c.address() == em.source; }),
             cs.end());
    if (em.reason && em.reason != caf::exit_reason::normal)
      self->quit(em.reason);
  });
  return {
      [=](join_atom) -> caf::result<uint16_t> {
        auto res = self->add_tcp_doorman(opts.port, opts.host.c_str(), true);
        if (!res)
          return std::move(res.error());
        *doorman = res->first; // drain closes it
        return res->second;
      },
      [=](const caf::io::new_connection_msg& msg) {
        // Linked: stopping the acceptor stops every connection.
        auto conn = self->fork(connection, msg.handle, coord, opts);
        self->link_to(conn);
        conns->push_back(conn);
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
          self->request(c, std::chrono::seconds{2}, sync_atom::value)
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
