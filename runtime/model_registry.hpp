#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "messages/client.hpp"
#include "messages/cluster.hpp"
#include "messages/errc.hpp"
#include "runtime/node_config.hpp"

namespace dine {

/// Where a request goes: one batcher per (model, version, shard).
struct route_target {
  std::string model;
  uint32_t version = 0;
  uint32_t shard = 0;

  friend bool operator<(const route_target& x, const route_target& y) {
    return std::tie(x.model, x.version, x.shard) <
           std::tie(y.model, y.version, y.shard);
  }

  friend bool operator==(const route_target& x, const route_target& y) {
    return x.model == y.model && x.version == y.version && x.shard == y.shard;
  }
};

/// Checks msgpack `inputs` against the schema of `r` (`schema`,
/// `schema-keys`). Returns an empty string if they match, else what is
/// wrong, e.g. "inputs must be a map with key `text`".
std::string check_inputs(const model_routing& r,
                         const std::vector<uint8_t>& inputs);

/// Fills the shard fields of a worker's registration record from its
/// config: the shard count of each model and the served shards (`shards`).
void declare_shards(worker_info& info, const node_config& cfg);

/// Returns the sharding hash of `r` when the coordinator left it 0: a hash
/// of `key`, or of model, version and inputs when there is no key. Never 0.
uint64_t request_key_hash(const client_request& r);

/// Picks a shard for `key_hash` among `live` (non-empty) shards: the same
/// key always takes the same one while `live` stays the same.
uint32_t fallback_shard(uint64_t key_hash, const std::vector<uint32_t>& live);

/// The router's model table: per model its configuration (batching
/// limits, shards, schema, balancing, timeout), its known versions, and
/// the workers serving each (version, shard). Built from the coordinator's
/// config and extended by what workers declare when they register. Plain
/// state, no actors: the router owns one.
class model_registry {
public:
  /// One model.
  struct model {
    model_config config;
    bool configured = false;        ///< In the coordinator's config.
    std::vector<uint32_t> versions; ///< Known versions, ascending.
    /// Workers (id -> name) by version, then by shard.
    std::map<uint32_t, std::vector<std::map<uint64_t, std::string>>> serving;
  };

  /// The outcome of `resolve` and `route`.
  struct decision {
    errc code = errc::none; ///< `none`: use `model`, `version`, `shard`.
    std::string message;
    const model* entry = nullptr;
    uint32_t version = 0;
    uint32_t shard = 0;
    bool fallback = false; ///< `shard` is not the key's home shard.
  };

  /// Loads every model of `table`; `default_balance` is the strategy of
  /// models that name none.
  model_registry(const std::map<std::string, model_config>& table,
                 std::string default_balance);

  /// Records that worker `id` (named `name`) serves `decls`. A model the
  /// config does not know is added with the worker's shard count. Shard
  /// indices out of range are skipped and listed in `skipped`. Returns
  /// the targets the worker now serves.
  std::vector<route_target>
  declare(uint64_t id, const std::string& name,
          const std::vector<model_decl>& decls,
          std::vector<std::string>* skipped = nullptr);

  /// Returns the targets worker `id` serves.
  std::vector<route_target> targets_of(uint64_t id) const;

  /// Removes worker `id` everywhere; returns the targets it served.
  std::vector<route_target> withdraw(uint64_t id);

  /// Returns the model named `name`, or null.
  const model* find(const std::string& name) const;

  /// Resolves a request's model and version (0 = the default version: the
  /// newest one some worker serves, else the newest known). Fails with
  /// `unknown_model` for an unknown name or version.
  decision resolve(const std::string& name, uint32_t version) const;

  /// Returns the key's home shard in `m`.
  static uint32_t home_shard(const model& m, uint64_t key_hash);

  /// Returns how many workers serve `t`.
  size_t serving(const route_target& t) const;

  /// Returns how many workers serve shard `shard` of `m` at `version`.
  static size_t serving(const model& m, uint32_t version, uint32_t shard);

  /// Completes a resolved decision `d` with a shard for `key_hash`: the
  /// home shard if a worker serves it and `usable(shard)` holds; else with
  /// `fallback = any` another such shard (`fallback_shard`); else
  /// `unavailable` with a message naming the shard. Shards in `exclude`
  /// are never chosen.
  template <class Usable>
  void route(decision& d, uint64_t key_hash, Usable&& usable,
             const std::vector<uint32_t>& exclude = {}) const;

  /// Returns the strategy of `m`.
  const std::string& balance_of(const model& m) const;

  /// Describes every model for `--op=models`.
  std::vector<model_info> describe() const;

  /// Returns the default version of `m` (see `resolve`).
  static uint32_t default_version(const model& m);

  /// Returns the default version of every model, by name.
  std::vector<model_version> default_versions() const;

private:
  model& ensure(const std::string& name, uint32_t shard_count);

  std::map<std::string, model> models_;
  std::string default_balance_;
};

template <class Usable>
void model_registry::route(decision& d, uint64_t key_hash, Usable&& usable,
                           const std::vector<uint32_t>& exclude) const {
  auto& m = *d.entry;
  auto ok = [&](uint32_t s) {
    for (auto x : exclude)
      if (x == s)
        return false;
    return serving(m, d.version, s) > 0 && usable(s);
  };
  auto home = home_shard(m, key_hash);
  d.shard = home;
  d.fallback = false;
  if (ok(home))
    return;
  auto what =
      "model `" + m.config.name + "` version " + std::to_string(d.version);
  auto shards = m.config.routing.shards;
  if (shards > 1)
    what = "shard " + std::to_string(home) + " of " + what;
  if (m.config.routing.fallback == fallback_mode::none) {
    d.code = errc::unavailable;
    d.message = "no healthy worker serves " + what + " (fallback = none)";
    return;
  }
  std::vector<uint32_t> live;
  for (uint32_t s = 0; s < shards; ++s)
    if (s != home && ok(s))
      live.push_back(s);
  if (live.empty()) {
    d.code = errc::unavailable;
    d.message = "no healthy worker serves " + what;
    return;
  }
  d.shard = fallback_shard(key_hash, live);
  d.fallback = true;
}

} // namespace dine
