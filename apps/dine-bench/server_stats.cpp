#include "server_stats.hpp"

#include <chrono>
#include <exception>

#include <nlohmann/json.hpp>

#include "messages/errc.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"

namespace dine::bench {

double batch_stats::mean() const noexcept {
  double items = 0;
  double batches = 0;
  for (auto& [size, n] : sizes) {
    items += static_cast<double>(size) * static_cast<double>(n);
    batches += static_cast<double>(n);
  }
  return batches > 0 ? items / batches : 0.0;
}

std::string fetch_batch_stats(const options& opts, batch_stats& out) {
  out = batch_stats{};
  auto timeout =
      std::chrono::milliseconds{static_cast<int64_t>(opts.timeout_s * 1000)};
  client_conn conn;
  if (opts.tls)
    conn.use_tls(opts.tls_ctx);
  if (auto err = conn.connect(opts.host, opts.port, timeout); !err.empty())
    return "connect: " + err;
  if (!opts.api_key.empty())
    if (auto err = conn.hello(opts.api_key, timeout); !err.empty())
      return "hello: " + err;
  client_request req;
  req.id = 1;
  req.op = op_code::stats;
  std::vector<char> buf;
  append_request(buf, req);
  if (auto err = conn.send_frames(buf, timeout); !err.empty())
    return "send: " + err;
  client_reply rep;
  if (auto err = conn.read_reply(rep, timeout); !err.empty())
    return "reply: " + err;
  if (rep.code != 0)
    return std::string{to_string(static_cast<errc>(rep.code))} + ": " +
           rep.message;
  try {
    auto j = nlohmann::json::from_msgpack(rep.outputs);
    for (auto& b : j.at("batchers")) {
      if (!b.contains("model") || b["model"] != opts.model)
        continue;
      for (auto& [size, n] : b.at("batch_sizes").items())
        out.sizes[std::stoull(size)] += n.get<uint64_t>();
    }
  } catch (const std::exception& ex) {
    return std::string{"unexpected stats reply: "} + ex.what();
  }
  out.have = true;
  return {};
}

} // namespace dine::bench
