#include "runtime/security_config.hpp"

#include "runtime/config_parse.hpp"

#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

#include "messages/errc.hpp"
#include "runtime/node_config.hpp"
#include "runtime/tls_files.hpp"

namespace dine {

namespace {

struct security_option {
  const char* key;
  const char* help;
  const char* expects;
  std::function<bool(security_settings&, const std::string&)> set;
};

/// Sets a path; a path must not be empty.
std::function<bool(security_settings&, const std::string&)>
path_setter(std::string security_settings::*m) {
  return [=](security_settings& s, const std::string& v) {
    s.*m = v;
    return !v.empty();
  };
}

const std::vector<security_option>& security_options_table() {
  static const std::vector<security_option> table = {
      {"tls-cert",
       "this node's certificate (PEM) signed by tls-ca: inter-node traffic "
       "uses mutual TLS (needs tls-key and tls-ca too)",
       "a path", path_setter(&security_settings::tls_cert)},
      {"tls-key", "the private key of tls-cert (PEM, unencrypted)", "a path",
       path_setter(&security_settings::tls_key)},
      {"tls-ca", "the cluster CA certificate (PEM) peers must be signed by",
       "a path", path_setter(&security_settings::tls_ca)},
      {"cluster-token",
       "secret a worker presents when it joins; a coordinator with one "
       "refuses workers without it",
       "a non-empty string", path_setter(&security_settings::cluster_token)},
      {"insecure",
       "allow plaintext inter-node traffic on a non-loopback address "
       "(warns at start)",
       "true or false",
       [](security_settings& s, const std::string& v) {
         return parse_bool(v, s.insecure);
       }},
      {"client-tls",
       "TLS on the client port and HTTPS on the HTTP port, with tls-cert and "
       "tls-key (clients verify it against tls-ca; needs all three)",
       "true or false",
       [](security_settings& s, const std::string& v) {
         return parse_bool(v, s.client_tls);
       }},
  };
  return table;
}

std::string trim_right(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' ||
                        s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  return s;
}

} // namespace

bool is_security_key(const std::string& key) {
  if (key == "cluster-token-file")
    return true;
  for (auto& opt : security_options_table())
    if (key == opt.key)
      return true;
  return false;
}

caf::error apply_security_option(node_config& cfg, const std::string& key,
                                 const std::string& value,
                                 const std::string& origin) {
  if (key == "cluster-token-file") {
    std::ifstream in{value};
    if (!in)
      return make_error(errc::invalid_config, origin +
                                                  ": `cluster-token-file` = `" +
                                                  value + "`: cannot read it");
    std::stringstream ss;
    ss << in.rdbuf();
    auto token = trim_right(ss.str());
    if (token.empty())
      return make_error(errc::invalid_config,
                        origin + ": `cluster-token-file` = `" + value +
                            "`: the file is empty");
    cfg.security.cluster_token = std::move(token);
    cfg.security.cluster_token_file = value;
    return caf::none;
  }
  for (auto& opt : security_options_table())
    if (key == opt.key) {
      if (!opt.set(cfg.security, value))
        return make_error(errc::invalid_config, origin + ": `" + key +
                                                    "` is invalid: expected " +
                                                    opt.expects);
      if (key == "cluster-token")
        cfg.security.cluster_token_file.clear();
      return caf::none;
    }
  return make_error(errc::invalid_config,
                    origin + ": unknown key `" + key + "`");
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" ||
         host.rfind("127.", 0) == 0;
}

std::string plaintext_exposure(const node_config& cfg) {
  if (cfg.security.tls())
    return {};
  std::string out;
  auto add = [&](const std::string& what, const std::string& host) {
    if (!host.empty() && !is_loopback_host(host))
      out += (out.empty() ? "" : ", ") + what + " " + host;
  };
  add("listen", cfg.listen_host);
  add("join", cfg.join_host);
  add("cache-node", cfg.cache.node_host);
  for (auto& [host, port] : cfg.routing.static_workers)
    add("worker", host);
  return out;
}

caf::error validate_security(const node_config& cfg) {
  auto& s = cfg.security;
  auto given = !s.tls_cert.empty() + !s.tls_key.empty() + !s.tls_ca.empty();
  if (given > 0 && given < 3) {
    std::string missing;
    if (s.tls_cert.empty())
      missing += " tls-cert";
    if (s.tls_key.empty())
      missing += " tls-key";
    if (s.tls_ca.empty())
      missing += " tls-ca";
    return make_error(errc::invalid_config,
                      "mutual TLS needs tls-cert, tls-key and tls-ca; "
                      "missing:" +
                          missing);
  }
  if (s.client_tls && given == 0)
    return make_error(errc::invalid_config,
                      "client-tls needs tls-cert, tls-key and tls-ca (the "
                      "node's certificate; tools/mkcerts.sh)");
  if (given == 3)
    return check_tls_files(s.tls_cert, s.tls_key, s.tls_ca);
  auto exposed = plaintext_exposure(cfg);
  if (!exposed.empty() && !s.insecure)
    return make_error(errc::invalid_config,
                      "plaintext inter-node traffic on a non-loopback "
                      "address (" +
                          exposed +
                          "): configure tls-cert, tls-key and tls-ca "
                          "(tools/mkcerts.sh), or pass --insecure");
  return caf::none;
}

std::string security_usage() {
  std::string out;
  auto line = [&](const char* key, const char* help) {
    out += "  --";
    out += key;
    out += std::string(32 - std::min<size_t>(31, std::string{key}.size()), ' ');
    out += help;
    out += '\n';
  };
  for (auto& opt : security_options_table())
    line(opt.key, opt.help);
  line("cluster-token-file", "read cluster-token from this file");
  return out;
}

std::string security_config_text(const security_settings& s) {
  std::string out;
  auto kv = [&](const char* k, const std::string& v) { append_kv(out, k, v); };
  if (s.tls()) {
    kv("tls-cert", s.tls_cert);
    kv("tls-key", s.tls_key);
    kv("tls-ca", s.tls_ca);
  }
  if (!s.cluster_token_file.empty())
    kv("cluster-token-file", s.cluster_token_file);
  else if (!s.cluster_token.empty())
    out += "\n; cluster-token is set (not shown)";
  if (s.insecure)
    kv("insecure", "true");
  if (s.client_tls)
    kv("client-tls", "true");
  return out;
}

} // namespace dine
