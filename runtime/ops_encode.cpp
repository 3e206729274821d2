#include "runtime/ops_encode.hpp"

#include <set>

#include <msgpack.hpp>

namespace dine {

namespace {

using packer = msgpack::packer<msgpack::sbuffer>;

void str(packer& pk, const std::string& s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

std::vector<uint8_t> bytes(const msgpack::sbuffer& buf) {
  return {buf.data(), buf.data() + buf.size()};
}

std::set<std::string> model_names(const cluster_stats& cs) {
  std::set<std::string> names;
  for (auto& w : cs.workers)
    names.insert(w.models.begin(), w.models.end());
  return names;
}

} // namespace

std::vector<uint8_t> encode_health(const cluster_stats& cs) {
  msgpack::sbuffer buf;
  packer pk{buf};
  auto names = model_names(cs);
  pk.pack_map(3);
  str(pk, "status");
  str(pk, cs.workers.empty() ? "no_workers" : "ok");
  str(pk, "workers");
  pk.pack_uint64(cs.workers.size());
  str(pk, "models");
  pk.pack_array(static_cast<uint32_t>(names.size()));
  for (auto& n : names)
    str(pk, n);
  return bytes(buf);
}

std::vector<uint8_t>
encode_models(const cluster_stats& cs,
              const std::map<std::string, model_config>& table) {
  msgpack::sbuffer buf;
  packer pk{buf};
  auto names = model_names(cs);
  pk.pack_map(1);
  str(pk, "models");
  pk.pack_array(static_cast<uint32_t>(names.size()));
  for (auto& n : names) {
    model_config mc;
    if (auto i = table.find(n); i != table.end())
      mc = i->second;
    pk.pack_map(6);
    str(pk, "name");
    str(pk, n);
    str(pk, "version");
    pk.pack_uint32(mc.version);
    str(pk, "backend");
    str(pk, mc.backend);
    str(pk, "max_batch_size");
    pk.pack_uint32(mc.max_batch_size);
    str(pk, "max_delay_us");
    pk.pack_uint64(static_cast<uint64_t>(mc.max_delay.count()));
    std::vector<std::string> serving;
    for (auto& w : cs.workers)
      for (auto& m : w.models)
        if (m == n)
          serving.push_back(w.name);
    str(pk, "workers");
    pk.pack_array(static_cast<uint32_t>(serving.size()));
    for (auto& w : serving)
      str(pk, w);
  }
  return bytes(buf);
}

std::vector<uint8_t> encode_stats(const cluster_stats& cs,
                                  const request_counters& rc) {
  msgpack::sbuffer buf;
  packer pk{buf};
  pk.pack_map(3);
  str(pk, "requests");
  pk.pack_map(5);
  str(pk, "accepted");
  pk.pack_uint64(rc.accepted);
  str(pk, "ok");
  pk.pack_uint64(rc.ok);
  str(pk, "late");
  pk.pack_uint64(rc.late);
  str(pk, "inflight");
  pk.pack_uint64(rc.inflight);
  uint32_t nerr = 0;
  for (auto e : rc.errors)
    nerr += e > 0 ? 1 : 0;
  str(pk, "errors");
  pk.pack_map(nerr);
  for (size_t i = 0; i < rc.errors.size(); ++i)
    if (rc.errors[i] > 0) {
      str(pk, to_string(static_cast<errc>(i)));
      pk.pack_uint64(rc.errors[i]);
    }
  str(pk, "workers");
  pk.pack_array(static_cast<uint32_t>(cs.workers.size()));
  for (auto& w : cs.workers) {
    pk.pack_map(6);
    str(pk, "name");
    str(pk, w.name);
    str(pk, "models");
    pk.pack_array(static_cast<uint32_t>(w.models.size()));
    for (auto& m : w.models)
      str(pk, m);
    str(pk, "batches");
    pk.pack_uint64(w.batches);
    str(pk, "items");
    pk.pack_uint64(w.items);
    str(pk, "failures");
    pk.pack_uint64(w.failures);
    str(pk, "outstanding");
    pk.pack_uint32(w.outstanding);
  }
  str(pk, "batchers");
  pk.pack_array(static_cast<uint32_t>(cs.batchers.size()));
  for (auto& b : cs.batchers) {
    pk.pack_map(5);
    str(pk, "model");
    str(pk, b.model);
    str(pk, "batches");
    pk.pack_uint64(b.batches);
    str(pk, "items");
    pk.pack_uint64(b.items);
    str(pk, "retries");
    pk.pack_uint64(b.retries);
    // Sparse histogram: {"size": count} for sizes that occurred.
    uint32_t nz = 0;
    for (auto c : b.size_histogram)
      nz += c > 0 ? 1 : 0;
    str(pk, "batch_sizes");
    pk.pack_map(nz);
    for (size_t i = 0; i < b.size_histogram.size(); ++i)
      if (b.size_histogram[i] > 0) {
        str(pk, std::to_string(i + 1));
        pk.pack_uint64(b.size_histogram[i]);
      }
  }
  return bytes(buf);
}

} // namespace dine
