// libFuzzer target: the client port's decoding path (docs/testing.md, fuzz
// section). The input is a byte stream as a client would send it: split
// into frames by `frame_reader` (fed in two reads, so the pending-buffer
// path runs too), each body decoded as a request, as a reply, by
// `safe_unpack` and walked by `msgpack_reader`.

#include <cstddef>
#include <cstdint>

#include "messages/client.hpp"
#include "runtime/frame.hpp"
#include "runtime/msgpack_reader.hpp"
#include "runtime/msgpack_unpack.hpp"
#include "runtime/wire.hpp"

namespace {

void decode_body(const char* body, size_t len) {
  dine::client_request req;
  dine::decode_request(body, len, req);
  dine::client_reply rep;
  dine::decode_reply(body, len, rep);
  auto bytes = reinterpret_cast<const uint8_t*>(body);
  msgpack::zone zone;
  auto obj = dine::safe_unpack(zone, bytes, len);
  (void)obj;
  dine::msgpack_reader rd{bytes, len};
  while (rd.ok() && !rd.at_end())
    rd.skip();
  dine::msgpack_reader keys{bytes, len};
  dine::find_map_key(keys, "inputs");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto p = reinterpret_cast<const char*>(data);
  // A small maximum, so that the rejection path is reached as well.
  dine::frame_reader reader{1u << 20};
  auto cut = size / 2;
  auto on_frame = [](const char* body, size_t len) { decode_body(body, len); };
  if (reader.consume(p, cut, on_frame))
    reader.consume(p + cut, size - cut, on_frame);
  // The whole input as one body, without a length prefix.
  decode_body(p, size);
  return 0;
}
