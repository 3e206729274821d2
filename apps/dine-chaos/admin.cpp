#include "admin.hpp"

#include <arpa/inet.h>

#include <cstdlib>
#include <cstring>

#include "messages/client.hpp"
#include "messages/errc.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"

namespace dine::chaos {

std::string admin_request(const std::string& addr, const std::string& op,
                          const nlohmann::json& inputs,
                          std::chrono::milliseconds timeout,
                          nlohmann::json& out) {
  std::string host;
  uint16_t port = 0;
  if (auto err = split_host_port(addr, host, port); !err.empty())
    return err;
  nlohmann::json req{{"id", 1}, {"op", op}};
  if (!inputs.is_null())
    req["inputs"] = inputs;
  auto body = nlohmann::json::to_msgpack(req);
  std::vector<char> frame(4 + body.size());
  auto len = htonl(static_cast<uint32_t>(body.size()));
  memcpy(frame.data(), &len, 4);
  memcpy(frame.data() + 4, body.data(), body.size());
  client_conn conn;
  if (auto err = conn.connect(host, port, timeout); !err.empty())
    return err;
  if (auto err = conn.send_frames(frame, timeout); !err.empty())
    return err;
  client_reply rep;
  if (auto err = conn.read_reply(rep, timeout); !err.empty())
    return err;
  if (rep.code != 0)
    return std::string{to_string(static_cast<errc>(rep.code))} + ": " +
           rep.message;
  out = rep.outputs.empty()
            ? nlohmann::json{}
            : nlohmann::json::from_msgpack(rep.outputs, true, false);
  if (out.is_discarded())
    out = "(outputs are not valid msgpack)";
  return {};
}

nlohmann::json
fault_inputs(const std::vector<std::pair<std::string, std::string>>& params) {
  auto obj = nlohmann::json::object();
  for (auto& [k, v] : params) {
    if (k == "rate")
      obj[k] = strtod(v.c_str(), nullptr);
    else if (k == "count" || k == "slow_ms")
      obj[k] = strtoull(v.c_str(), nullptr, 10);
    else
      obj[k] = v;
  }
  return obj;
}

} // namespace dine::chaos
