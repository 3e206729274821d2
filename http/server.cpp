#include "http/server.hpp"

#include <atomic>
#include <cstdio>
#include <optional>
#include <sstream>
#include <type_traits>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>

#include "http/errors.hpp"

namespace dine::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

/// What the io thread owns: the context, the acceptor, the settings.
struct io_core : std::enable_shared_from_this<io_core> {
  io_core(server_options o, handler hd) : opts(std::move(o)), h(std::move(hd)) {
    // nop
  }
  server_options opts;
  handler h;
  /// With `opts.tls`: the asio view of its SSL_CTX (shared, not copied).
  std::unique_ptr<asio::ssl::context> ssl;
  std::atomic<uint32_t> conns{0};
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
};

namespace {

template <class Header>
std::string header_text(const Header& h) {
  std::ostringstream os;
  os << h;
  return os.str();
}

} // namespace

/// One connection, as the exchanges see it (on the io thread).
class session : public std::enable_shared_from_this<session> {
public:
  virtual ~session() = default;
  virtual void respond(unsigned status, const std::string& ctype,
                       std::string body, const exchange::fields& extra) = 0;
  virtual void start_events() = 0;
  virtual void event(const std::string& data) = 0;
  virtual void end_events() = 0;
  virtual void on_close(std::function<void()> f) = 0;
};

/// One connection over `Stream` (a TCP stream, or TLS over one when the
/// node has `client-tls`): the TLS handshake first, then reads a request,
/// hands it to the handler, writes its response (or event stream), then
/// reads the next one.
template <class Stream>
class basic_session final : public session {
public:
  static constexpr bool tls = !std::is_same<Stream, beast::tcp_stream>::value;

  template <class... Ts>
  basic_session(io_core* core, tcp::socket s, Ts&... xs)
      : stream_(std::move(s), xs...), core_(core) {
    ++core_->conns;
  }

  ~basic_session() override { --core_->conns; }

  void start() {
    if constexpr (tls) {
      // A handshake that does not finish in time is closed (docs/security.md,
      // "Slow clients").
      lowest().expires_after(core_->opts.handshake_timeout);
      stream_.async_handshake(
          asio::ssl::stream_base::server, [self = me()](beast::error_code ec) {
            if (ec == beast::error::timeout && self->core_->opts.stats)
              ++self->core_->opts.stats->handshake_timeouts;
            if (ec)
              return self->close(); // plaintext, junk, too slow
            self->read_request();
          });
    } else {
      read_request();
    }
  }

  void respond(unsigned status, const std::string& ctype, std::string body,
               const exchange::fields& extra) override {
    if (!busy_ || answered_ || closed_)
      return;
    answered_ = true;
    bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status),
                                           version_};
    res.set(bhttp::field::server, "dine");
    res.set(bhttp::field::content_type, ctype);
    for (auto& [name, value] : extra)
      res.set(name, value);
    res.content_length(body.size());
    res.keep_alive(keep_alive_);
    auto out = header_text(res.base());
    out += body;
    send(std::move(out), true);
  }

  void start_events() override {
    if (!busy_ || answered_ || closed_)
      return;
    answered_ = true;
    events_ = true;
    bhttp::response<bhttp::empty_body> res{bhttp::status::ok, version_};
    res.set(bhttp::field::server, "dine");
    res.set(bhttp::field::content_type, "text/event-stream");
    res.set(bhttp::field::cache_control, "no-cache");
    res.keep_alive(keep_alive_);
    res.chunked(true);
    send(header_text(res.base()), false);
  }

  void event(const std::string& data) override {
    if (!events_ || finishing_ || closed_)
      return;
    auto n = data.size() + 8; // "data: " + "\n\n"
    char hex[20];
    std::snprintf(hex, sizeof(hex), "%zx\r\n", n);
    std::string out = hex;
    out.reserve(out.size() + n + 2);
    out += "data: ";
    out += data;
    out += "\n\n\r\n";
    send(std::move(out), false);
  }

  void end_events() override {
    if (!events_ || finishing_ || closed_)
      return;
    send("0\r\n\r\n", true);
  }

  void on_close(std::function<void()> f) override {
    if (!busy_ || closed_)
      return;
    on_close_ = std::move(f);
    watch();
  }

private:
  std::shared_ptr<basic_session> me() {
    return std::static_pointer_cast<basic_session>(shared_from_this());
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  tcp::socket& socket() { return lowest().socket(); }

  void read_request() {
    auto& o = core_->opts;
    parser_.emplace();
    parser_->header_limit(o.max_header_bytes);
    parser_->body_limit(o.max_body_bytes);
    lowest().expires_after(o.idle_timeout);
    bhttp::async_read(
        stream_, buf_, *parser_,
        [self = me()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (closed_)
      return;
    if (ec) {
      if (ec == bhttp::error::header_limit)
        return reject(431, "header_too_large",
                      "the request header exceeds " +
                          std::to_string(core_->opts.max_header_bytes) +
                          " bytes");
      if (ec == bhttp::error::body_limit)
        return reject(413, "body_too_large",
                      "the request body exceeds " +
                          std::to_string(core_->opts.max_body_bytes) +
                          " bytes");
      if (ec.category() ==
              bhttp::make_error_code(bhttp::error::bad_target).category() &&
          ec != bhttp::error::end_of_stream &&
          ec != bhttp::error::partial_message)
        return reject(400, "invalid_request",
                      "malformed HTTP request: " + ec.message());
      return close(); // end of stream, timeout, reset
    }
    lowest().expires_never();
    keep_ = shared_from_this(); // only weak handles reach the handler
    auto req = parser_->release();
    parser_.reset();
    busy_ = true;
    answered_ = false;
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    auto ex =
        std::make_shared<exchange>(weak_from_this(), core_->shared_from_this());
    try {
      core_->h(std::move(req), ex);
    } catch (const std::exception& e) {
      respond(
          500, "application/json",
          error_body("internal", std::string{"handler failed: "} + e.what()),
          {});
    }
  }

  /// Answers a request that could not be read, then closes.
  void reject(unsigned status, const char* code, const std::string& msg) {
    busy_ = true;
    answered_ = false;
    keep_alive_ = false;
    version_ = 11;
    respond(status, "application/json", error_body(code, msg), {});
  }

  void send(std::string bytes, bool last) {
    pending_ += bytes;
    finishing_ = finishing_ || last;
    if (!writing_)
      write_pending();
  }

  void write_pending() {
    if (pending_.empty()) {
      writing_ = false;
      if (finishing_)
        finish();
      return;
    }
    writing_ = true;
    writing_buf_.clear();
    writing_buf_.swap(pending_);
    lowest().expires_after(core_->opts.idle_timeout); // a client not reading
    asio::async_write(stream_, asio::buffer(writing_buf_),
                      [self = me()](beast::error_code ec, size_t) {
                        if (ec || self->closed_)
                          return self->close();
                        self->write_pending();
                      });
  }

  /// The response ended: the next request, or close.
  void finish() {
    auto self = std::move(keep_); // destroyed at return, if the last one
    busy_ = false;
    events_ = false;
    finishing_ = false;
    on_close_ = nullptr;
    lowest().expires_never();
    if (!keep_alive_) {
      beast::error_code ec;
      socket().shutdown(tcp::socket::shutdown_send, ec);
      return close();
    }
    read_request();
  }

  /// While a request is answered: notices the client closing.
  void watch() {
    if (watching_)
      return;
    watching_ = true;
    socket().async_wait(tcp::socket::wait_read,
                        [self = me()](beast::error_code ec) {
                          self->watching_ = false;
                          if (self->closed_ || !self->busy_)
                            return;
                          beast::error_code ec2;
                          auto avail = self->socket().available(ec2);
                          if (ec || ec2 || avail == 0)
                            self->close(); // EOF or reset
                          // else: the client pipelined its next request; read
                          // it later
                        });
  }

  void close() {
    if (closed_)
      return;
    auto self = std::move(keep_);
    closed_ = true;
    auto f = std::move(on_close_);
    on_close_ = nullptr;
    beast::error_code ec;
    socket().close(ec);
    if (f && busy_ && !(answered_ && finishing_ && !writing_))
      f();
  }

  Stream stream_;
  io_core* core_;
  beast::flat_buffer buf_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string pending_;
  std::string writing_buf_;
  std::function<void()> on_close_;
  /// Set while a request is answered: the handler holds only weak handles.
  std::shared_ptr<session> keep_;
  unsigned version_ = 11;
  bool busy_ = false;
  bool answered_ = false;
  bool events_ = false;
  bool finishing_ = false;
  bool writing_ = false;
  bool watching_ = false;
  bool keep_alive_ = true;
  bool closed_ = false;
};

// -- exchange -----------------------------------------------------------------

exchange::exchange(std::weak_ptr<session> s, std::shared_ptr<io_core> core)
    : session_(std::move(s)), core_(std::move(core)) {
  // nop
}

template <class F>
void exchange::post(F f) {
  // The session is locked only on the io thread: it is never destroyed
  // elsewhere. Posting to a stopped context is harmless.
  asio::post(core_->io, [w = session_, f = std::move(f)]() mutable {
    if (auto p = w.lock())
      f(*p);
  });
}

void exchange::respond(unsigned status, std::string content_type,
                       std::string body, fields extra) {
  post([status, ct = std::move(content_type), b = std::move(body),
        x = std::move(extra)](session& s) mutable {
    s.respond(status, ct, std::move(b), x);
  });
}

void exchange::start_events() {
  post([](session& s) { s.start_events(); });
}

void exchange::event(const std::string& data) {
  post([data](session& s) { s.event(data); });
}

void exchange::end_events() {
  post([](session& s) { s.end_events(); });
}

void exchange::on_close(std::function<void()> f) {
  post([f = std::move(f)](session& s) mutable { s.on_close(std::move(f)); });
}

// -- server -------------------------------------------------------------------

namespace {

void accept_next(io_core* core) {
  core->acceptor.async_accept([core](beast::error_code ec, tcp::socket sock) {
    if (ec == asio::error::operation_aborted || !core->acceptor.is_open())
      return;
    if (!ec) {
      if (core->conns.load() >= core->opts.max_connections) {
        // Over the limit: a short 503 and close, never a session.
        auto s = std::make_shared<tcp::socket>(std::move(sock));
        auto body = std::make_shared<std::string>();
        auto err = error_body("overloaded",
                              "the node serves its maximum of " +
                                  std::to_string(core->opts.max_connections) +
                                  " HTTP connections");
        *body = "HTTP/1.1 503 Service Unavailable\r\nServer: dine\r\n"
                "Content-Type: application/json\r\nConnection: close\r\n"
                "Content-Length: " +
                std::to_string(err.size()) + "\r\n\r\n" + err;
        asio::async_write(*s, asio::buffer(*body),
                          [s, body](beast::error_code, size_t) {
                            beast::error_code e;
                            s->shutdown(tcp::socket::shutdown_send, e);
                            s->close(e);
                          });
      } else {
        beast::error_code e;
        sock.set_option(tcp::no_delay{true}, e);
        if (core->ssl)
          std::make_shared<basic_session<beast::ssl_stream<beast::tcp_stream>>>(
              core, std::move(sock), *core->ssl)
              ->start();
        else
          std::make_shared<basic_session<beast::tcp_stream>>(core,
                                                             std::move(sock))
              ->start();
      }
    }
    accept_next(core);
  });
}

} // namespace

server::server(server_options opts, handler h)
    : core_(std::make_shared<io_core>(std::move(opts), std::move(h))) {
  // nop
}

server::~server() {
  stop();
}

std::pair<uint16_t, std::string> server::start() {
  auto& o = core_->opts;
  if (o.tls && !core_->ssl) {
    // asio takes the handle and frees it: one more reference for it.
    auto* ctx = o.tls.native();
    SSL_CTX_up_ref(ctx);
    core_->ssl = std::make_unique<asio::ssl::context>(ctx);
  }
  beast::error_code ec;
  auto addr = asio::ip::make_address(o.host, ec);
  if (ec) {
    // A host name: resolve it.
    tcp::resolver res{core_->io};
    auto rs = res.resolve(o.host, std::to_string(o.port), ec);
    if (ec || rs.empty())
      return {0, "cannot resolve " + o.host + ": " + ec.message()};
    addr = rs.begin()->endpoint().address();
  }
  tcp::endpoint ep{addr, o.port};
  auto& acc = core_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec)
    acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    acc.bind(ep, ec);
  if (!ec)
    acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return {0, "cannot listen on " + o.host + ":" + std::to_string(o.port) +
                   ": " + ec.message()};
  auto port = acc.local_endpoint().port();
  accept_next(core_.get());
  thread_ = std::thread{[core = core_] {
    for (;;) {
      try {
        core->io.run();
        return;
      } catch (const std::exception&) {
        // A handler threw past its own guard: keep serving the others.
      }
    }
  }};
  return {port, {}};
}

void server::stop() {
  if (!thread_.joinable())
    return;
  asio::post(core_->io, [core = core_.get()] {
    beast::error_code ec;
    core->acceptor.close(ec);
    core->io.stop();
  });
  thread_.join();
}

uint32_t server::connections() const {
  return core_->conns.load();
}

} // namespace dine::http
