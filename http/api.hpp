#pragma once

// http::api: the routes of the HTTP front door (docs/http.md). Each request
// becomes a `client_request` sent through a `backend`, exactly as a wire
// frame does; replies (final and streamed chunks) come back through it and
// are turned into JSON or server-sent events. Runs on the io thread; reply
// callbacks run on actor threads and only post to the io thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/backend.hpp"
#include "http/job_table.hpp"
#include "http/server.hpp"
#include "runtime/api_keys.hpp"
#include "runtime/trace_context.hpp"

namespace dine::http {

/// One embedded file of the dashboard.
struct static_file {
  const char* content_type;
  const unsigned char* data;
  size_t size;
};

/// Settings of the routes.
struct api_options {
  /// Models `/health/ready` requires a healthy worker for.
  std::vector<std::string> ready_models;
  std::chrono::milliseconds job_ttl{300000};
  uint32_t max_jobs = 10000;
  /// Prometheus text for `GET /metrics`; empty: the route answers 404
  /// (a separate metrics port serves it).
  std::function<std::string()> metrics;
  /// The dashboard: path below `/dashboard/` -> file; `index.html` is `/`.
  std::map<std::string, static_file> files;
  /// The client port's API keys; null or empty: every request is admin.
  /// Each route needs what its op needs there (http/auth.hpp).
  std::shared_ptr<const api_keys> keys;
};

/// The routes.
class api : public std::enable_shared_from_this<api> {
public:
  api(api_options opts, std::shared_ptr<backend> be);

  /// The server's handler.
  void handle(request&& req, exchange_ptr ex);

private:
  /// Answers 401 or 403 and returns false unless the request's key may
  /// use `path` (always true without keys).
  /// `who`: the key's role and position (admin without keys).
  bool authorized(const request& req, const std::string& path,
                  const exchange_ptr& ex, key_match& who);

  /// `parent`: the request's valid `traceparent` header, if any.
  void infer(const std::string& model, const std::string& query,
             const std::string& body, std::optional<trace_parent> parent,
             exchange_ptr ex, const key_match& who);
  void job(const std::string& method, const std::string& id, exchange_ptr ex,
           const key_match& who);
  void admin(op_code op, std::function<void(client_reply&&)> done);
  void models(exchange_ptr ex);
  void ready(exchange_ptr ex);
  void stats(exchange_ptr ex);
  /// `parent`: as for `infer` (its trace id is the request's).
  void completion(bool chat, const std::string& body,
                  std::optional<trace_parent> parent, exchange_ptr ex);
  void file(const std::string& path, exchange_ptr ex);

  uint64_t next_id() { return next_id_.fetch_add(1); }

  api_options opts_;
  std::shared_ptr<backend> be_;
  job_table jobs_;
  std::atomic<uint64_t> next_id_{1};
};

/// A parent id for the `traceparent` of a reply (docs/http.md, "Trace
/// ids"): request `id` mixed with a per-process random value (splitmix64),
/// so two nodes rarely agree.
uint64_t span_id(uint64_t id);

/// The `traceparent` response header of reply `r` (parent id `span`, the
/// caller's `flags`), or none when its trace id is not a W3C one.
exchange::fields traceparent_fields(const client_reply& r, uint64_t span,
                                    uint8_t flags);

/// Rejects JSON nested deeper than `max_depth` (arrays and objects) before
/// it is parsed: converting it would recurse once per level.
bool json_depth_ok(const std::string& text, size_t max_depth);

} // namespace dine::http
