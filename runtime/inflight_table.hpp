#pragma once

// The requests a front door accepted and has not answered yet, and the rule
// that each of them gets exactly one final reply (docs/design.md, "The path
// of a request"). A request may first produce any number of non-final
// replies (the chunks of a streamed generation); its final reply removes it.
// Whatever arrives for a request after its final reply (a result after the
// deadline answered it, a chunk after a cancel) is dropped and counted
// `late`. `Conn` names where replies go (the coordinator uses its
// connection actors; tests use integers), so another front door can keep
// its requests in the same kind of table.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "messages/client.hpp"

namespace dine {

template <class Conn>
class inflight_table {
public:
  using clock = std::chrono::steady_clock;

  /// One accepted request awaiting its final reply.
  struct entry {
    Conn conn;
    uint64_t client_id = 0; ///< The id the client gave the request.
    clock::time_point accepted;
    clock::time_point deadline;
    std::string key;     ///< Cache/coalescing key; empty: neither.
    uint32_t ttl_ms = 0; ///< Cache TTL of the result.
    /// The model version `key` names: a result of another version (the
    /// default changed in between) is not stored under it.
    uint32_t key_version = 0;
    bool stream = false;  ///< Non-final replies go to the client.
    std::string model;    ///< Metrics, logs; a stream's cancel.
    std::string trace;    ///< Trace id, echoed in the reply.
    uint64_t trace_n = 0; ///< Or the generated one (runtime/request_log).
    uint32_t chunks = 0;  ///< Non-final replies delivered.
    uint32_t tokens = 0;  ///< Output tokens those carried.
    clock::time_point first_chunk; ///< Of the first non-final reply.
    stage_marks marks;             ///< Up to the cache; see stage_times.
  };

  /// Takes `e` as request `rid` (ids are unique; an existing one is kept).
  entry& add(uint64_t rid, entry e) {
    if (e.stream)
      streams_.insert(rid);
    return table_.emplace(rid, std::move(e)).first->second;
  }

  /// Returns the entry of `rid`, or null if it was answered.
  entry* find(uint64_t rid) {
    auto i = table_.find(rid);
    return i != table_.end() ? &i->second : nullptr;
  }

  /// Records a non-final reply carrying `tokens` output tokens for `rid` at
  /// `now`. Returns the entry to deliver it to, or null if `rid` had its
  /// final reply already or is not a stream (dropped, counted `late`).
  entry* chunk(uint64_t rid, uint32_t tokens, clock::time_point now) {
    auto e = find(rid);
    if (e == nullptr || !e->stream) {
      ++late_;
      return nullptr;
    }
    if (e->chunks++ == 0)
      e->first_chunk = now;
    e->tokens += tokens;
    return e;
  }

  /// Takes the entry of `rid` out for its final reply. Returns nothing if
  /// it had its final reply already (the caller drops the reply; counted
  /// `late`): never two final replies.
  std::optional<entry> finish(uint64_t rid) {
    auto i = table_.find(rid);
    if (i == table_.end()) {
      ++late_;
      return std::nullopt;
    }
    std::optional<entry> out{std::move(i->second)};
    table_.erase(i);
    if (out->stream)
      streams_.erase(rid);
    return out;
  }

  /// Takes out every entry whose deadline is not after `now`, calling
  /// `f(rid, entry&&)` for each: the caller sends its final reply.
  template <class F>
  void expire(clock::time_point now, F&& f) {
    for (auto i = table_.begin(); i != table_.end();) {
      if (i->second.deadline > now) {
        ++i;
        continue;
      }
      auto rid = i->first;
      auto e = std::move(i->second);
      i = table_.erase(i);
      if (e.stream)
        streams_.erase(rid);
      f(rid, std::move(e));
    }
  }

  /// Returns the stream `client_id` of `conn` is, or 0 if none is in
  /// flight.
  uint64_t find_stream(const Conn& conn, uint64_t client_id) const {
    for (auto rid : streams_) {
      auto& e = table_.at(rid);
      if (e.client_id == client_id && e.conn == conn)
        return rid;
    }
    return 0;
  }

  /// Returns the streams of `conn` in flight.
  std::vector<uint64_t> streams_of(const Conn& conn) const {
    std::vector<uint64_t> out;
    for (auto rid : streams_)
      if (table_.at(rid).conn == conn)
        out.push_back(rid);
    return out;
  }

  /// Requests awaiting their final reply.
  size_t size() const noexcept { return table_.size(); }

  /// Replies dropped because their request had its final reply.
  uint64_t late() const noexcept { return late_; }

private:
  std::unordered_map<uint64_t, entry> table_;
  std::unordered_set<uint64_t> streams_;
  uint64_t late_ = 0;
};

} // namespace dine
