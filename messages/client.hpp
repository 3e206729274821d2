#pragma once

// Messages between the client listener and the coordinator: one decoded
// client frame and one reply to frame. They also travel coordinator -> router
// -> batcher with `id` rewritten to the coordinator's internal request id.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace dine {

/// The `op` of a client frame.
enum class op_code : uint8_t {
  infer,
  health,
  models,
  stats,
  fault,
  cancel,
  /// Presents an API key; answered by the client port itself
  /// (docs/protocol.md, "API keys").
  hello,
};

/// Returns the wire name of `x`.
const char* to_string(op_code x);

/// Per-stage timings of one reply, in microseconds, all measured on the
/// node that holds the client's connection (docs/protocol.md, "Timings").
/// The stages from `read_us` to `write_us` add up to `total_us`.
struct timings {
  uint32_t read_us = 0;     ///< Read completing the frame -> decoded.
  uint32_t preproc_us = 0;  ///< Input preprocessing (none yet: 0).
  uint32_t cache_us = 0;    ///< Waiting for the response cache.
  uint32_t queue_us = 0;    ///< Hand-off to the coordinator + batcher queue.
  uint32_t network_us = 0;  ///< To the worker and back, minus `infer_us`.
  uint32_t infer_us = 0;    ///< Model invocation on the worker.
  uint32_t postproc_us = 0; ///< Output postprocessing (none yet: 0).
  uint32_t write_us = 0;    ///< Result back -> reply encoded for the socket.
  uint32_t total_us = 0;    ///< Read completing the frame -> reply encoded.
  /// Final frame of a stream: accepted -> first chunk (time to first
  /// token) and the mean time per output token after the first.
  uint32_t ttft_us = 0;
  uint32_t tpot_us = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, timings& x) {
  return f(caf::meta::type_name("timings"), x.read_us, x.preproc_us, x.cache_us,
           x.queue_us, x.network_us, x.infer_us, x.postproc_us, x.write_us,
           x.total_us, x.ttft_us, x.tpot_us);
}

/// Where one request was when, on the node that holds its connection:
/// nanoseconds of that node's `std::chrono::steady_clock` (0 = not
/// reached). Only ever compared with marks of the same process; never sent
/// to another host. runtime/stage_times.hpp turns them into `timings`.
struct stage_marks {
  int64_t read = 0;        ///< The read that completed the frame returned.
  int64_t decoded = 0;     ///< The frame was decoded.
  int64_t cache_begin = 0; ///< The coordinator asked the cache.
  int64_t cache_end = 0;   ///< The cache answered (or the lookup gave up).
  int64_t sent = 0;        ///< The batch left the batcher for a worker.
  int64_t received = 0;    ///< Its result came back to the batcher.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stage_marks& x) {
  return f(caf::meta::type_name("stage_marks"), x.read, x.decoded,
           x.cache_begin, x.cache_end, x.sent, x.received);
}

/// One decoded client request (see docs/protocol.md).
struct client_request {
  uint64_t id = 0; ///< Client's id (internal id after the coordinator).
  op_code op = op_code::infer;
  std::string model;
  uint32_t version = 0;        ///< 0 = newest.
  std::vector<uint8_t> inputs; ///< Raw msgpack bytes of `inputs`.
  std::string key;             ///< Sharding/cache key, may be empty.
  bool cache = true;
  uint32_t deadline_ms = 0; ///< 0 = the node's default request timeout.
  int32_t priority = 0;
  /// Nonzero (an `errc`) when the frame could not be decoded: the
  /// coordinator answers it with that error without routing it.
  uint8_t error = 0;
  std::string error_message;
  /// Set by the router when the model needs it (shards, or a key-based
  /// strategy): a 64-bit hash of `key`, or of model, version and inputs
  /// when no key was given (`request_key_hash`). The cache uses the full
  /// key instead.
  uint64_t key_hash = 0;
  /// `stream: true`: the reply comes as chunks, then one final frame.
  bool stream = false;
  /// `cancel`: the client id of the request (on the same connection) to
  /// cancel (`target` on the wire).
  uint64_t target = 0;
  /// Set by the connection (read, decoded) and the coordinator (cache).
  stage_marks marks;
  /// `hello`: the API key presented (`auth` on the wire). Checked and
  /// cleared by the client port; never sent on (not in `inspect`).
  std::string auth;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_request& x) {
  return f(caf::meta::type_name("client_request"), x.id, x.op, x.model,
           x.version, x.inputs, x.key, x.cache, x.deadline_ms, x.priority,
           x.error, x.error_message, x.key_hash, x.stream, x.target, x.marks);
}

/// Which frame of a request a reply is (docs/protocol.md, "Streaming").
enum class reply_frame : uint8_t {
  single, ///< The one reply of a non-streamed request: no `done` key.
  chunk,  ///< A non-final frame of a stream: `done: false`.
  last,   ///< The final frame of a stream: `done: true`.
};

/// One reply to a client request.
struct client_reply {
  uint64_t id = 0;
  uint8_t code = 0;             ///< An `errc`; 0 = ok.
  std::string message;          ///< Error message when `code != 0`.
  std::vector<uint8_t> outputs; ///< Raw msgpack value when ok.
  bool cached = false;
  std::string worker;
  uint32_t batch = 0;
  timings times;
  /// Carried back to the connection, which fills `times` from them when it
  /// encodes the reply (not on the wire).
  stage_marks marks;
  /// The model version that produced `outputs` (0: none ran). Not on the
  /// wire: the coordinator checks it before caching a result.
  uint32_t version = 0;
  reply_frame frame = reply_frame::single;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_reply& x) {
  return f(caf::meta::type_name("client_reply"), x.id, x.code, x.message,
           x.outputs, x.cached, x.worker, x.batch, x.times, x.marks, x.version,
           x.frame);
}

} // namespace dine
