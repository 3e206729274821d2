#include "runtime/model_registry.hpp"

#include <algorithm>
#include <set>
#include <string_view>

#include "runtime/hash_ring.hpp"
#include "runtime/msgpack_reader.hpp"

namespace dine {

namespace {

using kind = msgpack_reader::kind;

bool matches(schema_type t, kind k) {
  switch (t) {
  case schema_type::any:
    return true;
  case schema_type::map:
    return k == kind::map;
  case schema_type::array:
    return k == kind::array;
  case schema_type::str:
    return k == kind::str;
  case schema_type::int_:
    return k == kind::uint || k == kind::sint;
  case schema_type::float_:
    return k == kind::real || k == kind::uint || k == kind::sint;
  case schema_type::bool_:
    return k == kind::boolean;
  case schema_type::bin:
    return k == kind::bin;
  }
  return true;
}

std::string quoted_list(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "`" : ", `") + x + "`";
  return out;
}

} // namespace

std::string check_inputs(const model_routing& r,
                         const std::vector<uint8_t>& inputs) {
  auto want = r.schema;
  if (want == schema_type::any && r.schema_keys.empty())
    return {};
  if (want == schema_type::any)
    want = schema_type::map; // required keys imply a map
  msgpack_reader rd{inputs.data(), inputs.size()};
  auto k = rd.peek();
  if (!matches(want, k)) {
    std::string msg = "inputs must be ";
    msg += want == schema_type::int_ ? "an " : "a ";
    msg += to_string(want);
    if (!r.schema_keys.empty())
      msg += " with keys " + quoted_list(r.schema_keys);
    return msg;
  }
  if (r.schema_keys.empty())
    return {};
  uint32_t n = 0;
  if (!rd.read_map_header(n))
    return "inputs are malformed msgpack";
  std::vector<bool> seen(r.schema_keys.size(), false);
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key;
    if (rd.peek() == kind::str) {
      if (!rd.read_str(key))
        return "inputs are malformed msgpack";
      for (size_t j = 0; j < seen.size(); ++j)
        if (!seen[j] && r.schema_keys[j] == key)
          seen[j] = true;
    } else if (!rd.skip()) {
      return "inputs are malformed msgpack";
    }
    if (!rd.skip())
      return "inputs are malformed msgpack";
  }
  std::vector<std::string> missing;
  for (size_t j = 0; j < seen.size(); ++j)
    if (!seen[j])
      missing.push_back(r.schema_keys[j]);
  if (missing.empty())
    return {};
  return "inputs lack required key" +
         std::string{missing.size() > 1 ? "s " : " "} + quoted_list(missing);
}

void declare_shards(worker_info& info, const node_config& cfg) {
  for (auto& d : info.models) {
    if (auto i = cfg.model_table.find(d.name); i != cfg.model_table.end())
      d.shard_count = i->second.routing.shards;
    d.shards = cfg.routing.served_shards;
  }
}

uint64_t request_key_hash(const client_request& r) {
  uint64_t h;
  if (!r.key.empty()) {
    h = hash_key(r.key);
  } else {
    std::string_view in{reinterpret_cast<const char*>(r.inputs.data()),
                        r.inputs.size()};
    h = mix64(hash_key(r.model) ^ mix64(r.version + 1) ^ hash_key(in));
  }
  return h != 0 ? h : 1;
}

uint32_t fallback_shard(uint64_t key_hash, const std::vector<uint32_t>& live) {
  // Mixed again: the home shard already used the low bits of the hash.
  return live[mix64(key_hash ^ 0xFA11BAC4ull) % live.size()];
}

model_registry::model_registry(const std::map<std::string, model_config>& table,
                               std::string default_balance)
    : default_balance_(std::move(default_balance)) {
  for (auto& [name, cfg] : table) {
    auto& m = models_[name];
    m.config = cfg;
    m.config.name = name;
    if (m.config.routing.shards == 0)
      m.config.routing.shards = 1;
    m.configured = true;
    m.versions.push_back(cfg.version);
  }
}

model_registry::model& model_registry::ensure(const std::string& name,
                                              uint32_t shard_count) {
  auto i = models_.find(name);
  if (i != models_.end())
    return i->second;
  auto& m = models_[name];
  m.config.name = name;
  m.config.backend.clear(); // unknown here: the worker's business
  m.config.routing.shards = shard_count > 0 ? shard_count : 1;
  return m;
}

std::vector<route_target>
model_registry::declare(uint64_t id, const std::string& name,
                        const std::vector<model_decl>& decls,
                        std::vector<std::string>* skipped) {
  std::vector<route_target> out;
  for (auto& d : decls) {
    auto& m = ensure(d.name, d.shard_count);
    auto i = std::lower_bound(m.versions.begin(), m.versions.end(), d.version);
    if (i == m.versions.end() || *i != d.version)
      m.versions.insert(i, d.version);
    auto shards = m.config.routing.shards;
    auto& by_shard = m.serving[d.version];
    by_shard.resize(shards);
    auto add = [&](uint32_t s) {
      by_shard[s][id] = name;
      route_target t{d.name, d.version, s};
      if (std::find(out.begin(), out.end(), t) == out.end())
        out.push_back(std::move(t));
    };
    if (d.shards.empty()) {
      for (uint32_t s = 0; s < shards; ++s)
        add(s);
      continue;
    }
    for (auto s : d.shards) {
      if (s < shards)
        add(s);
      else if (skipped != nullptr)
        skipped->push_back("shard " + std::to_string(s) + " of model `" +
                           d.name + "` (it has " + std::to_string(shards) +
                           ")");
    }
  }
  return out;
}

std::vector<route_target> model_registry::targets_of(uint64_t id) const {
  std::vector<route_target> out;
  for (auto& [name, m] : models_)
    for (auto& [version, by_shard] : m.serving)
      for (uint32_t s = 0; s < by_shard.size(); ++s)
        if (by_shard[s].count(id) > 0)
          out.push_back(route_target{name, version, s});
  return out;
}

std::vector<route_target> model_registry::withdraw(uint64_t id) {
  auto out = targets_of(id);
  for (auto& t : out)
    models_[t.model].serving[t.version][t.shard].erase(id);
  return out;
}

const model_registry::model*
model_registry::find(const std::string& name) const {
  auto i = models_.find(name);
  return i == models_.end() ? nullptr : &i->second;
}

std::vector<model_version> model_registry::default_versions() const {
  std::vector<model_version> out;
  out.reserve(models_.size());
  for (auto& [name, m] : models_)
    out.push_back(model_version{name, default_version(m)});
  return out;
}

uint32_t model_registry::default_version(const model& m) {
  for (auto i = m.serving.rbegin(); i != m.serving.rend(); ++i)
    for (auto& workers : i->second)
      if (!workers.empty())
        return i->first;
  return m.versions.empty() ? 0 : m.versions.back();
}

model_registry::decision model_registry::resolve(const std::string& name,
                                                 uint32_t version) const {
  decision d;
  auto m = find(name);
  if (m == nullptr) {
    d.code = errc::unknown_model;
    d.message = "unknown model `" + name + "`";
    return d;
  }
  d.entry = m;
  if (version == 0) {
    d.version = default_version(*m);
    return d;
  }
  if (!std::binary_search(m->versions.begin(), m->versions.end(), version)) {
    std::string known;
    for (auto v : m->versions)
      known += (known.empty() ? "" : ", ") + std::to_string(v);
    d.code = errc::unknown_model;
    d.message = "model `" + name + "` has no version " +
                std::to_string(version) + " (known: " + known + ")";
    return d;
  }
  d.version = version;
  return d;
}

uint32_t model_registry::home_shard(const model& m, uint64_t key_hash) {
  auto& r = m.config.routing;
  return static_cast<uint32_t>(shard_for(key_hash, r.shards, r.mode));
}

size_t model_registry::serving(const route_target& t) const {
  auto m = find(t.model);
  return m != nullptr ? serving(*m, t.version, t.shard) : 0;
}

size_t model_registry::serving(const model& m, uint32_t version,
                               uint32_t shard) {
  auto i = m.serving.find(version);
  if (i == m.serving.end() || shard >= i->second.size())
    return 0;
  return i->second[shard].size();
}

const std::string& model_registry::balance_of(const model& m) const {
  return m.config.routing.balance.empty() ? default_balance_
                                          : m.config.routing.balance;
}

std::vector<model_info> model_registry::describe() const {
  std::vector<model_info> out;
  for (auto& [name, m] : models_) {
    auto& c = m.config;
    model_info x;
    x.name = name;
    x.versions = m.versions;
    x.default_version = default_version(m);
    x.backend = c.backend;
    x.max_batch_size = c.max_batch_size;
    x.max_delay_us = static_cast<uint64_t>(c.max_delay.count());
    x.shards = c.routing.shards;
    x.shard_mode = to_string(c.routing.mode);
    x.balance = balance_of(m);
    x.fallback = to_string(c.routing.fallback);
    x.schema = to_string(c.routing.schema);
    x.schema_keys = c.routing.schema_keys;
    x.batchable = c.batchable;
    x.quantized = c.routing.quantized;
    x.cacheable = c.cacheable;
    x.timeout_ms = static_cast<uint32_t>(c.routing.timeout.count());
    x.shard_workers.resize(c.routing.shards);
    for (auto& [version, by_shard] : m.serving)
      for (uint32_t s = 0; s < by_shard.size() && s < x.shards; ++s)
        for (auto& [id, wname] : by_shard[s])
          x.shard_workers[s].push_back(version == x.default_version
                                           ? wname
                                           : wname + "@v" +
                                                 std::to_string(version));
    out.push_back(std::move(x));
  }
  return out;
}

} // namespace dine
