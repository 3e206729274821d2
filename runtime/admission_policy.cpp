#include "runtime/admission_policy.hpp"

#include "runtime/backends/generator.hpp"
#include "runtime/cache_key.hpp"
#include "runtime/msgpack_reader.hpp"

namespace dine {

admission_policy::admission_policy(const node_config& cfg)
    : request_timeout_(cfg.request_timeout), models_(cfg.model_table) {
  // nop
}

void admission_policy::set_default_versions(
    const std::vector<model_version>& vs) {
  default_versions_.clear();
  for (auto& v : vs)
    default_versions_.emplace(v.model, v.version);
}

uint32_t admission_policy::default_version(const std::string& model) const {
  auto i = default_versions_.find(model);
  return i != default_versions_.end() ? i->second : 0;
}

admission admission_policy::admit(const client_request& r,
                                  admission::clock::time_point now) const {
  admission out;
  auto model = models_.find(r.model);
  bool known = model != models_.end();
  // The request's deadline, else the model's, else the node's.
  out.timeout = request_timeout_;
  if (r.deadline_ms > 0)
    out.timeout = std::chrono::milliseconds{r.deadline_ms};
  else if (known && model->second.routing.timeout.count() > 0)
    out.timeout = model->second.routing.timeout;
  out.deadline = now + out.timeout;
  if (!r.cache || r.stream || (known && !model->second.cacheable))
    return out;
  if (known && is_generative(model->second.backend) && !greedy_inputs(r.inputs))
    return out;
  // A model this node's config does not define may be a worker's generative
  // model (docs/models.md, "Serving"): a map that asks for sampling is not
  // cached either.
  if (!known && !greedy_inputs(r.inputs) &&
      msgpack_reader{r.inputs.data(), r.inputs.size()}.peek() ==
          msgpack_reader::kind::map)
    return out;
  // The key names the version that will run: a request without one gets
  // the model's current default.
  out.key_version = r.version != 0 ? r.version : default_version(r.model);
  out.key = r.key.empty() ? cache_key(r.model, out.key_version, r.inputs)
                          : cache_key_for_key(r.model, out.key_version, r.key);
  if (known)
    out.ttl_ms = model->second.cache_ttl_ms;
  return out;
}

bool greedy_inputs(const std::vector<uint8_t>& inputs) {
  msgpack_reader rd{inputs.data(), inputs.size()};
  if (rd.peek() != msgpack_reader::kind::map)
    return false;
  if (!find_map_key(rd, "temperature"))
    return rd.ok(); // absent: greedy; malformed: not
  double t = -1;
  return rd.read_double(t) && t == 0;
}

} // namespace dine
