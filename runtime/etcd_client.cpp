#include "runtime/etcd_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <nlohmann/json.hpp>

#include "messages/errc.hpp"
#include "runtime/config_parse.hpp"

namespace dine {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using json = nlohmann::json;

constexpr const char* alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// An int64 field: the gateway writes them as strings, tolerate numbers.
/// Absent: `fallback` (proto3 leaves out zero values).
bool int_field(const json& obj, const char* name, int64_t& out,
               int64_t fallback = 0) {
  auto i = obj.find(name);
  if (i == obj.end()) {
    out = fallback;
    return true;
  }
  if (i->is_number_integer()) {
    out = i->get<int64_t>();
    return true;
  }
  if (!i->is_string())
    return false;
  auto& s = i->get_ref<const std::string&>();
  if (s.empty() || s.size() > 20)
    return false;
  char* end = nullptr;
  errno = 0;
  auto x = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size())
    return false;
  out = x;
  return true;
}

/// A base64 bytes field; absent: empty.
bool bytes_field(const json& obj, const char* name, std::string& out) {
  auto i = obj.find(name);
  if (i == obj.end()) {
    out.clear();
    return true;
  }
  return i->is_string() && base64_decode(i->get_ref<const std::string&>(), out);
}

caf::error garbled(const std::string& what) {
  return make_error(errc::internal, "etcd answered a malformed " + what);
}

/// Parses `body` as a JSON object; nothing if it is not one.
std::optional<json> object_of(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  return j;
}

bool parse_kv(const json& j, etcd_kv& kv) {
  return j.is_object() && bytes_field(j, "key", kv.key) &&
         bytes_field(j, "value", kv.value) &&
         int_field(j, "create_revision", kv.create_revision) &&
         int_field(j, "mod_revision", kv.mod_revision) &&
         int_field(j, "lease", kv.lease);
}

/// The first pair of a range response object, if any; false if garbled.
bool first_kv(const json& range, std::optional<etcd_kv>& out) {
  out.reset();
  auto kvs = range.find("kvs");
  if (kvs == range.end())
    return true;
  if (!kvs->is_array())
    return false;
  if (kvs->empty())
    return true;
  etcd_kv kv;
  if (!parse_kv(kvs->front(), kv))
    return false;
  out = std::move(kv);
  return true;
}

struct http_answer {
  unsigned status = 0;
  std::string body;
};

/// One POST to one endpoint, bounded by `timeout` in total.
caf::expected<http_answer> http_post(const etcd_endpoint& ep,
                                     const std::string& path,
                                     const std::string& body,
                                     std::chrono::milliseconds timeout) {
  net::io_context ioc;
  tcp::resolver resolver{ioc};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buf;
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, path, 11};
  req.set(bhttp::field::host, ep.host);
  req.set(bhttp::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(etcd_client::max_body);
  parser.header_limit(16u << 10);
  beast::error_code failure;
  const char* stage = "resolving";
  bool done = false;
  resolver.async_resolve(
      ep.host, std::to_string(ep.port),
      [&](beast::error_code ec, tcp::resolver::results_type results) {
        if (ec) {
          failure = ec;
          done = true;
          return;
        }
        stage = "connecting";
        stream.expires_after(timeout);
        stream.async_connect(results, [&](beast::error_code ec,
                                          const tcp::endpoint&) {
          if (ec) {
            failure = ec;
            done = true;
            return;
          }
          stage = "writing";
          bhttp::async_write(stream, req, [&](beast::error_code ec, size_t) {
            if (ec) {
              failure = ec;
              done = true;
              return;
            }
            stage = "reading";
            bhttp::async_read(stream, buf, parser,
                              [&](beast::error_code ec, size_t) {
                                failure = ec;
                                done = true;
                              });
          });
        });
      });
  ioc.run_for(timeout);
  auto where = ep.host + ":" + std::to_string(ep.port);
  if (!done)
    return make_error(errc::unavailable,
                      where + ": timed out " + stage + " after " +
                          std::to_string(timeout.count()) + " ms");
  if (failure)
    return make_error(errc::unavailable,
                      where + ": " + stage + ": " + failure.message());
  http_answer out;
  out.status = parser.get().result_int();
  out.body = std::move(parser.get().body());
  return out;
}

} // namespace

bool parse_etcd_endpoints(const std::string& text,
                          std::vector<etcd_endpoint>& out) {
  out.clear();
  for (auto& item : split_list(text)) {
    etcd_endpoint ep;
    if (!parse_endpoint(item, ep.host, ep.port) || ep.port == 0 ||
        ep.host.empty())
      return false;
    out.push_back(std::move(ep));
  }
  return !out.empty();
}

std::string base64_encode(const std::string& in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint8_t>(in[k]); };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = byte(i) << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

bool base64_decode(const std::string& in, std::string& out) {
  out.clear();
  if (in.size() % 4 != 0)
    return false;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      auto c = in[i + k];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0 || (v[k] = value(c)) < 0)
        return false;
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>((n >> 16) & 0xFF);
    if (pad < 2)
      out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1)
      out += static_cast<char>(n & 0xFF);
  }
  return true;
}

caf::expected<std::pair<int64_t, int64_t>>
parse_grant_response(const std::string& body) {
  auto j = object_of(body);
  int64_t id = 0;
  int64_t ttl = 0;
  if (!j || !int_field(*j, "ID", id) || !int_field(*j, "TTL", ttl) || id == 0 ||
      ttl <= 0)
    return garbled("lease grant");
  return std::make_pair(id, ttl);
}

caf::expected<int64_t> parse_keepalive_response(const std::string& body) {
  auto j = object_of(body);
  if (!j)
    return garbled("lease keepalive");
  // The gateway streams: one object `{"result": {...}}` per keepalive.
  auto r = j->find("result");
  if (r == j->end() || !r->is_object())
    return garbled("lease keepalive");
  int64_t ttl = 0;
  if (!int_field(*r, "TTL", ttl))
    return garbled("lease keepalive");
  return ttl > 0 ? ttl : 0;
}

caf::expected<std::optional<etcd_kv>>
parse_range_response(const std::string& body) {
  auto j = object_of(body);
  std::optional<etcd_kv> kv;
  if (!j || !first_kv(*j, kv))
    return garbled("range response");
  return kv;
}

caf::expected<etcd_create_result> parse_txn_response(const std::string& body) {
  auto j = object_of(body);
  if (!j)
    return garbled("transaction response");
  etcd_create_result out;
  auto s = j->find("succeeded");
  if (s != j->end()) {
    if (!s->is_boolean())
      return garbled("transaction response");
    out.created = s->get<bool>();
  }
  if (out.created)
    return out;
  auto rs = j->find("responses");
  if (rs == j->end())
    return out;
  if (!rs->is_array())
    return garbled("transaction response");
  for (auto& r : *rs) {
    if (!r.is_object())
      return garbled("transaction response");
    auto range = r.find("response_range");
    if (range == r.end())
      continue;
    if (!range->is_object() || !first_kv(*range, out.current))
      return garbled("transaction response");
  }
  return out;
}

std::pair<int, std::string> parse_error_body(const std::string& body) {
  auto j = object_of(body);
  if (!j)
    return {-1, {}};
  int64_t code = -1;
  if (!int_field(*j, "code", code, -1) || code < 0 || code > 100)
    code = -1;
  std::string msg;
  for (auto name : {"message", "error"}) {
    auto i = j->find(name);
    if (i != j->end() && i->is_string()) {
      msg = i->get<std::string>();
      break;
    }
  }
  if (msg.size() > 200)
    msg.resize(200);
  return {static_cast<int>(code), std::move(msg)};
}

etcd_client::etcd_client(std::vector<etcd_endpoint> endpoints,
                         std::chrono::milliseconds timeout)
    : endpoints_(std::move(endpoints)), timeout_(timeout) {
  // nop
}

std::string etcd_client::current() const {
  if (endpoints_.empty())
    return {};
  auto& ep = endpoints_[current_];
  return ep.host + ":" + std::to_string(ep.port);
}

caf::expected<std::string> etcd_client::post(const std::string& path,
                                             const std::string& body) {
  if (endpoints_.empty())
    return make_error(errc::invalid_config, "no etcd endpoint");
  std::string failures;
  for (size_t k = 0; k < endpoints_.size(); ++k) {
    auto i = (current_ + k) % endpoints_.size();
    auto res = http_post(endpoints_[i], path, body, timeout_);
    if (!res) {
      failures += (failures.empty() ? "" : "; ") + classify(res.error()).second;
      continue;
    }
    current_ = i; // it answered: ask it first next time
    if (res->status == 200)
      return std::move(res->body);
    auto [code, msg] = parse_error_body(res->body);
    return make_error(errc::internal,
                      "etcd " + current() + " answered " + path +
                          " with HTTP " + std::to_string(res->status) +
                          " (code " + std::to_string(code) + ": " + msg + ")");
  }
  return make_error(errc::unavailable,
                    "no etcd endpoint answered: " + failures);
}

caf::expected<std::pair<int64_t, int64_t>> etcd_client::grant(int64_t ttl) {
  auto body = post("/v3/lease/grant", json{{"TTL", ttl}}.dump());
  if (!body)
    return std::move(body.error());
  return parse_grant_response(*body);
}

caf::expected<int64_t> etcd_client::keepalive(int64_t lease) {
  auto body =
      post("/v3/lease/keepalive", json{{"ID", std::to_string(lease)}}.dump());
  if (!body)
    return std::move(body.error());
  return parse_keepalive_response(*body);
}

caf::error etcd_client::revoke(int64_t lease) {
  auto body =
      post("/v3/lease/revoke", json{{"ID", std::to_string(lease)}}.dump());
  if (!body && classify(body.error()).second.find("code 5:") !=
                   std::string::npos) // NotFound: already gone
    return caf::none;
  return body ? caf::none : std::move(body.error());
}

caf::expected<std::optional<etcd_kv>> etcd_client::get(const std::string& key) {
  auto body = post("/v3/kv/range", json{{"key", base64_encode(key)}}.dump());
  if (!body)
    return std::move(body.error());
  return parse_range_response(*body);
}

caf::expected<etcd_create_result> etcd_client::create(const std::string& key,
                                                      const std::string& value,
                                                      int64_t lease) {
  auto k = base64_encode(key);
  json put{{"key", k}, {"value", base64_encode(value)}};
  if (lease != 0)
    put["lease"] = std::to_string(lease);
  json txn{{"compare", json::array({json{{"key", k},
                                         {"target", "CREATE"},
                                         {"result", "EQUAL"},
                                         {"create_revision", "0"}}})},
           {"success", json::array({json{{"request_put", put}}})},
           {"failure", json::array({json{{"request_range", {{"key", k}}}}})}};
  auto body = post("/v3/kv/txn", txn.dump());
  if (!body)
    return std::move(body.error());
  return parse_txn_response(*body);
}

caf::error etcd_client::put(const std::string& key, const std::string& value,
                            int64_t lease) {
  json put{{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0)
    put["lease"] = std::to_string(lease);
  auto body = post("/v3/kv/put", put.dump());
  return body ? caf::none : std::move(body.error());
}

} // namespace dine
