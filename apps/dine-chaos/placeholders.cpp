#include "placeholders.hpp"

namespace dine::chaos {

namespace {

constexpr const char* fields[] = {
    "client", "cluster", "client_port", "cluster_port", "pid", "addr", "gw"};

bool known_field(const std::string& f) {
  for (auto x : fields)
    if (f == x)
      return true;
  return false;
}

bool is_wildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
}

/// Calls `f(name, field)` for every `{name.field}` of `in`, copying the
/// text between them to `out` and `f`'s result for each placeholder.
/// Returns false and sets `why` on a syntax error or when `f` fails.
template <class F>
bool scan(const std::string& in, std::string& out, std::string& why, F f) {
  out.clear();
  size_t i = 0;
  while (i < in.size()) {
    auto open = in.find('{', i);
    if (open == std::string::npos) {
      out.append(in, i, std::string::npos);
      break;
    }
    out.append(in, i, open - i);
    auto close = in.find('}', open);
    if (close == std::string::npos) {
      why = "unterminated `{` in `" + in + "`";
      return false;
    }
    auto inner = in.substr(open + 1, close - open - 1);
    auto dot = inner.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == inner.size()) {
      why = "placeholder `{" + inner +
            "}` must be {NODE.FIELD} or "
            "{port.LABEL}";
      return false;
    }
    std::string value;
    if (!f(inner.substr(0, dot), inner.substr(dot + 1), value))
      return false;
    out += value;
    i = close + 1;
  }
  return true;
}

} // namespace

bool check_placeholders(const std::string& flag, const node_decl& self,
                        const scenario& sc, const std::set<std::string>& netns,
                        std::string& why) {
  std::string ignored;
  return scan(
      flag, ignored, why,
      [&](const std::string& name, const std::string& field, std::string&) {
        if (name == "port")
          return true;
        if (name == "self") {
          if (field != "name")
            why = "{self." + field + "}: only {self.name} is known";
          return field == "name";
        }
        if (!known_field(field)) {
          why = "unknown placeholder field `" + field +
                "` (client, cluster, client_port, cluster_port, "
                "pid, addr, gw)";
          return false;
        }
        if (field == "addr" || field == "gw") {
          if (netns.count(name) == 0) {
            why = "{" + name + "." + field + "} needs a `netns " + name +
                  "` or `host " + name + "` line before it";
            return false;
          }
          return true;
        }
        if (name == self.name || sc.find(name) == nullptr) {
          why = "{" + name + "." + field +
                "} must name a node declared before this one";
          return false;
        }
        return true;
      });
}

bool expand_placeholders(const std::string& flag, const std::string& self,
                         const facts_fn& facts, const port_fn& ports,
                         std::string& out, std::string& why) {
  return scan(flag, out, why,
              [&](const std::string& name, const std::string& field,
                  std::string& value) {
                if (name == "port") {
                  value = std::to_string(ports(field));
                  return true;
                }
                if (name == "self") {
                  value = self;
                  return true;
                }
                auto f = facts(name);
                node_facts nobody; // a `run` step: not a node
                auto me = self.empty() ? &nobody : facts(self);
                if (f == nullptr || me == nullptr) {
                  why = "unknown node `" + name + "`";
                  return false;
                }
                if (field == "addr" || field == "gw") {
                  value = field == "addr" ? f->addr : f->gw;
                  return true;
                }
                if (!f->ready) {
                  why = "{" + name + "." + field + "}: node " + name +
                        " is not running and ready";
                  return false;
                }
                auto host =
                    field == "client" ? f->client_host : f->cluster_host;
                if (is_wildcard(host))
                  host = !f->addr.empty()  ? f->addr
                         : !me->gw.empty() ? me->gw
                                           : "127.0.0.1";
                if (field == "client")
                  value = host + ":" + std::to_string(f->client_port);
                else if (field == "cluster")
                  value = host + ":" + std::to_string(f->cluster_port);
                else if (field == "client_port")
                  value = std::to_string(f->client_port);
                else if (field == "cluster_port")
                  value = std::to_string(f->cluster_port);
                else
                  value = std::to_string(f->pid);
                return true;
              });
}

} // namespace dine::chaos
