#include "runtime/error_reply.hpp"

namespace dine {

client_reply error_reply(uint64_t id, errc code, std::string msg) {
  client_reply r;
  r.id = id;
  r.code = static_cast<uint8_t>(code);
  r.message = std::move(msg);
  return r;
}

} // namespace dine
