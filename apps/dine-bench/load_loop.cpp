#include "load_loop.hpp"
#include "runtime/socket_io.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>

#include <openssl/ssl.h>

#include "reply_scan.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"

namespace dine::bench {

namespace {

constexpr int64_t ms_ns = 1000000;
constexpr int64_t sweep_interval_ns = 100 * ms_ns;
constexpr uint64_t timer_tag = ~uint64_t{0}; ///< epoll data of the timerfd.

double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}

} // namespace

int64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

load_loop::load_loop(const options& opts,
                     std::vector<request_template> templates)
    : opts_(opts), templates_(std::move(templates)), open_(opts.rate > 0),
      rng_(opts.seed), gap_(open_ ? opts.rate / 1e9 : 1.0), rbuf_(256 * 1024) {
  auto total = opts.connections * opts.depth;
  while ((size_t{1} << slot_bits_) < total)
    ++slot_bits_;
  slot_mask_ = (uint64_t{1} << slot_bits_) - 1;
  slots_.resize(total);
  conns_.resize(opts.connections);
  for (size_t i = 0; i < conns_.size(); ++i) {
    auto& c = conns_[i];
    c.index = i;
    // Popped from the back: slot i * depth goes out first.
    for (size_t j = opts.depth; j-- > 0;)
      c.free_slots.push_back(static_cast<uint32_t>(i * opts.depth + j));
  }
}

load_loop::~load_loop() {
  for (auto& c : conns_) {
    if (c.ssl != nullptr)
      SSL_free(c.ssl);
    if (c.fd >= 0)
      ::close(c.fd);
  }
  if (timer_fd_ >= 0)
    ::close(timer_fd_);
  if (epoll_fd_ >= 0)
    ::close(epoll_fd_);
}

std::string load_loop::connect() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0)
    return std::string{"epoll_create1: "} + strerror(errno);
  if (open_) {
    timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer_fd_ < 0)
      return std::string{"timerfd_create: "} + strerror(errno);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = timer_tag;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev) != 0)
      return std::string{"epoll_ctl: "} + strerror(errno);
  }
  auto timeout =
      std::chrono::milliseconds{static_cast<int64_t>(opts_.timeout_s * 1000)};
  for (auto& c : conns_) {
    client_conn conn;
    if (opts_.tls)
      conn.use_tls(opts_.tls_ctx);
    if (auto err = conn.connect(opts_.host, opts_.port, timeout); !err.empty())
      return err;
    if (!opts_.api_key.empty())
      if (auto err = conn.hello(opts_.api_key, timeout); !err.empty())
        return "hello: " + err;
    c.ssl = conn.release_tls();
    c.fd = conn.release(); // non-blocking, TCP_NODELAY
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = c.index;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev) != 0)
      return std::string{"epoll_ctl: "} + strerror(errno);
    ++live_;
  }
  return {};
}

void load_loop::run(const phase_limit& limit, run_result& out) {
  limit_ = limit;
  res_ = &out;
  sent_ = 0;
  dropped_ = 0;
  sending_ = true;
  start_ns_ = now_ns();
  next_send_ns_ = start_ns_ + next_gap();
  armed_ns_ = 0;
  last_reply_ns_ = start_ns_;
  end_ns_ = limit.seconds > 0
                ? start_ns_ + static_cast<int64_t>(limit.seconds * 1e9)
                : std::numeric_limits<int64_t>::max();
  next_progress_ns_ = start_ns_ + 1000 * ms_ns;
  last_progress_ns_ = start_ns_;
  progress_replies_ = 0;
  auto next_sweep = start_ns_ + sweep_interval_ns;
  auto cpu0 = cpu_now();
  for (auto& c : conns_)
    if (!c.dead) {
      refill(c, start_ns_);
      flush(c);
    }
  std::vector<epoll_event> evs(conns_.size() < 256 ? conns_.size() : 256);
  for (;;) {
    auto now = now_ns();
    if (open_ && sending_)
      pace(now);
    if (sending_ && !may_send(now))
      sending_ = false;
    if ((!sending_ && busy_ == 0) || live_ == 0)
      break;
    // Wake up for the lost-request sweep, progress and the end of sending
    // (open loop: the timerfd wakes us for the next arrival).
    auto wake = std::min(next_sweep, next_progress_ns_);
    if (sending_)
      wake = std::min(wake, end_ns_);
    if (open_ && sending_)
      arm_timer();
    auto wait_ms = static_cast<int>(std::max<int64_t>(0, wake - now) / ms_ns);
    int n = epoll_wait(epoll_fd_, evs.data(), static_cast<int>(evs.size()),
                       wait_ms);
    if (n < 0 && errno != EINTR) {
      out.failure = std::string{"epoll_wait: "} + strerror(errno);
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.u64 == timer_tag) {
        uint64_t expirations = 0;
        if (::read(timer_fd_, &expirations, sizeof(expirations)) < 0) {
          // EAGAIN: already drained; nothing else can fail here.
        }
        continue;
      }
      auto& c = conns_[evs[i].data.u64];
      if (c.dead)
        continue;
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(c);
      else if (evs[i].events & EPOLLOUT)
        flush(c);
    }
    now = now_ns();
    if (now >= next_sweep) {
      sweep(now);
      next_sweep = now + sweep_interval_ns;
    }
    if (now >= next_progress_ns_)
      progress(now);
  }
  out.sent = sent_;
  out.dropped = dropped_;
  out.seconds = static_cast<double>(last_reply_ns_ - start_ns_) * 1e-9;
  out.wall_seconds = static_cast<double>(now_ns() - start_ns_) * 1e-9;
  out.cpu_seconds = cpu_now() - cpu0;
  res_ = nullptr;
}

void load_loop::send_one(connection& c, uint32_t s, int64_t sent_ns) {
  auto ntemplates = templates_.size();
  auto seq = ++seq_;
  auto id = (seq << slot_bits_) | s;
  auto& t = ntemplates == 1 ? templates_[0] : templates_[seq % ntemplates];
  t.append(c.out, id);
  slots_[s].id = id;
  slots_[s].sent_ns = sent_ns;
  ++sent_;
  ++busy_;
}

void load_loop::refill(connection& c, int64_t now) {
  if (open_) // the pacer sends, not the replies
    return;
  if (templates_.size() == 1 && may_send(now)) // one allocation per refill
    c.out.reserve(c.out.size() +
                  c.free_slots.size() * templates_[0].frame.size());
  while (!c.free_slots.empty() && may_send(now)) {
    auto s = c.free_slots.back();
    c.free_slots.pop_back();
    send_one(c, s, now);
  }
}

void load_loop::pace(int64_t now) {
  dirty_.clear();
  while (next_send_ns_ <= now && may_send(now) && live_ > 0) {
    // Round-robin over the live connections.
    while (conns_[rr_].dead)
      rr_ = (rr_ + 1) % conns_.size();
    auto& c = conns_[rr_];
    rr_ = (rr_ + 1) % conns_.size();
    if (c.free_slots.empty()) {
      ++dropped_;
    } else {
      if (c.out.empty())
        dirty_.push_back(c.index);
      auto s = c.free_slots.back();
      c.free_slots.pop_back();
      // Latency counts from the scheduled time, even if we are late.
      send_one(c, s, next_send_ns_);
    }
    next_send_ns_ += next_gap();
  }
  for (auto i : dirty_)
    if (!conns_[i].dead)
      flush(conns_[i]);
}

void load_loop::arm_timer() {
  if (armed_ns_ == next_send_ns_)
    return;
  itimerspec its{};
  its.it_value.tv_sec = next_send_ns_ / 1000000000;
  its.it_value.tv_nsec = next_send_ns_ % 1000000000;
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &its, nullptr);
  armed_ns_ = next_send_ns_;
}

void load_loop::flush(connection& c) {
  if (auto err = send_pending(c.ssl, c.fd, c.out, c.out_off)) {
    fail(c, std::string{"send failed: "} + strerror(err));
    return;
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  }
  bool want = !c.out.empty();
  if (want != c.want_out) {
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u64 = c.index;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_out = want;
  }
}

void load_loop::on_readable(connection& c) {
  int64_t now = 0;
  for (;;) {
    auto n = recv_some(c.ssl, c.fd, rbuf_.data(), rbuf_.size());
    if (n > 0) {
      now = now_ns();
      auto f = [&](const char* body, size_t size) {
        on_frame(c, body, size, now);
      };
      if (!c.reader.consume(rbuf_.data(), static_cast<size_t>(n), f)) {
        fail(c, "reply frame of " + std::to_string(c.reader.rejected_length()) +
                    " bytes exceeds the maximum");
        return;
      }
      if (static_cast<size_t>(n) < rbuf_.size() && c.ssl == nullptr)
        break; // TLS: read on, decrypted bytes do not wake epoll
      continue;
    }
    if (n == 0) {
      fail(c, "connection closed by the server");
      return;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      break;
    fail(c, std::string{"recv failed: "} + strerror(errno));
    return;
  }
  if (now != 0)
    refill(c, now);
  flush(c);
}

const char* const stage_names[9] = {"read",     "preproc", "cache",
                                    "queue",    "network", "infer",
                                    "postproc", "write",   "total"};

namespace {

/// `--stages`: adds the reply's server timings to `res.stages`.
void record_stages(run_result& res, const char* body, size_t size) {
  client_reply rep;
  if (!decode_reply(body, size, rep))
    return;
  if (res.stages.empty())
    res.stages.resize(9);
  auto& t = rep.times;
  uint32_t v[9] = {t.read_us,     t.preproc_us, t.cache_us,
                   t.queue_us,    t.network_us, t.infer_us,
                   t.postproc_us, t.write_us,   t.total_us};
  for (size_t i = 0; i < 9; ++i)
    res.stages[i].record(uint64_t{v[i]} * 1000);
}

} // namespace

void load_loop::on_frame(connection& c, const char* body, size_t size,
                         int64_t now) {
  auto& res = *res_;
  reply_summary r;
  if (!scan_reply(body, size, r)) {
    ++res.errors["bad_reply"];
    return;
  }
  auto s = r.id & slot_mask_;
  auto first = c.index * opts_.depth;
  if (s >= first && s < first + opts_.depth && slots_[s].id == r.id) {
    res.latency.record(static_cast<uint64_t>(now - slots_[s].sent_ns));
    slots_[s].id = 0;
    c.free_slots.push_back(static_cast<uint32_t>(s));
    --busy_;
    ++res.replies;
    last_reply_ns_ = now;
    if (r.ok) {
      ++res.ok;
      if (opts_.stages)
        record_stages(res, body, size);
    } else
      ++res.errors[r.code.empty() ? std::string{"unknown"}
                                  : std::string{r.code}];
  } else if (!lost_ids_.empty() && lost_ids_.erase(r.id) > 0) {
    ++res.late;
  } else {
    ++res.errors["bad_reply"];
  }
}

void load_loop::fail(connection& c, const std::string& why) {
  if (res_ != nullptr && res_->failure.empty())
    res_->failure = "connection " + std::to_string(c.index) + ": " + why;
  auto first = c.index * opts_.depth;
  for (size_t s = first; s < first + opts_.depth; ++s)
    if (slots_[s].id != 0) {
      slots_[s].id = 0;
      --busy_;
      if (res_ != nullptr)
        ++res_->lost;
    }
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  if (c.ssl != nullptr)
    SSL_free(c.ssl);
  c.ssl = nullptr;
  ::close(c.fd);
  c.fd = -1;
  c.dead = true;
  c.free_slots.clear();
  c.out.clear();
  --live_;
}

void load_loop::sweep(int64_t now) {
  if (busy_ == 0)
    return;
  auto timeout = static_cast<int64_t>(opts_.timeout_s * 1e9);
  if (now - last_reply_ns_ > timeout) {
    // No reply at all for a whole timeout: the server is stuck or gone.
    // Give up instead of trickling on at depth / timeout requests per s.
    if (res_->failure.empty()) {
      char buf[96];
      snprintf(buf, sizeof(buf), "no reply for %g s, giving up",
               opts_.timeout_s);
      res_->failure = buf;
    }
    sending_ = false;
    timeout = -1; // everything outstanding is lost
  }
  bool freed = false;
  for (size_t s = 0; s < slots_.size(); ++s) {
    auto& x = slots_[s];
    if (x.id == 0 || (timeout >= 0 && now - x.sent_ns <= timeout))
      continue;
    lost_ids_.insert(x.id);
    x.id = 0;
    --busy_;
    ++res_->lost;
    conns_[s / opts_.depth].free_slots.push_back(static_cast<uint32_t>(s));
    freed = true;
  }
  if (freed)
    for (auto& c : conns_)
      if (!c.dead) {
        refill(c, now);
        flush(c);
      }
}

void load_loop::progress(int64_t now) {
  auto elapsed = static_cast<double>(now - start_ns_) * 1e-9;
  auto interval = static_cast<double>(now - last_progress_ns_) * 1e-9;
  auto& res = *res_;
  auto rate = static_cast<double>(res.replies - progress_replies_) / interval;
  progress_replies_ = res.replies;
  last_progress_ns_ = now;
  next_progress_ns_ += 1000 * ms_ns;
  if (next_progress_ns_ <= now)
    next_progress_ns_ = now + 1000 * ms_ns;
  // Only runs longer than 3 s report progress.
  if (limit_.seconds <= 3 && elapsed < 3)
    return;
  uint64_t errors = 0;
  for (auto& kv : res.errors)
    errors += kv.second;
  fprintf(stderr,
          "dine-bench: %6.1f s  sent %" PRIu64 "  replies %" PRIu64
          "  %.0f req/s  errors %" PRIu64 "  lost %" PRIu64
          "  in flight %zu%s\n",
          elapsed, sent_, res.replies, rate, errors, res.lost, busy_,
          open_ ? ("  dropped " + std::to_string(dropped_)).c_str() : "");
}

} // namespace dine::bench
