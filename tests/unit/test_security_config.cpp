// The inter-node security keys (runtime/security_config.hpp), the cluster
// token check (runtime/cluster_token.hpp) and the TLS file check
// (runtime/tls_files.hpp) on real files made by tools/mkcerts.sh.

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "../temp_dir.hpp"
#include "messages/errc.hpp"
#include "runtime/cluster_token.hpp"
#include "runtime/node_config.hpp"
#include "runtime/security_config.hpp"
#include "runtime/tls_context.hpp"
#include "runtime/tls_files.hpp"

using namespace dine;

namespace {

std::string error_text(const caf::error& err) {
  return classify(err).second;
}

/// Runs tools/mkcerts.sh DIR NODES; true on success.
bool mkcerts(const std::string& dir, const std::string& nodes) {
  auto cmd = std::string{DINE_SOURCE_DIR} + "/tools/mkcerts.sh " + dir + " " +
             nodes + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

} // namespace

TEST_CASE("cluster token: constant-time equality and the join decision") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("s3cret-token", "s3cret-token"));
  CHECK_FALSE(constant_time_equal("s3cret-token", "s3cret-tokeN"));
  CHECK_FALSE(constant_time_equal("s3cret-token", "s3cret-toke"));
  CHECK_FALSE(constant_time_equal("s3cret", std::string("s3cret\0x", 8)));
  CHECK_FALSE(constant_time_equal("abc", ""));
  CHECK(join_allowed("", ""));         // no token configured: open
  CHECK(join_allowed("", "anything")); // a worker's token is then ignored
  CHECK(join_allowed("t0k", "t0k"));
  CHECK_FALSE(join_allowed("t0k", ""));
  CHECK_FALSE(join_allowed("t0k", "t0k "));
  CHECK_FALSE(join_allowed("t0k", "T0K"));
}

TEST_CASE("loopback hosts and plaintext exposure") {
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.1.2.3"));
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("::1"));
  CHECK_FALSE(is_loopback_host("0.0.0.0"));
  CHECK_FALSE(is_loopback_host("10.0.0.1"));
  CHECK_FALSE(is_loopback_host("db.example"));
  CHECK_FALSE(is_loopback_host("1270.0.0.1"));
  node_config cfg;
  CHECK(plaintext_exposure(cfg).empty());
  cfg.listen_host = "0.0.0.0";
  cfg.join_host = "10.0.0.2";
  CHECK(plaintext_exposure(cfg) == "listen 0.0.0.0, join 10.0.0.2");
  cfg.security.tls_cert = "x.pem"; // TLS: nothing is plaintext
  CHECK(plaintext_exposure(cfg).empty());
}

TEST_CASE("plaintext on a non-loopback address needs --insecure") {
  auto cfg = load_config({"--role=coordinator", "--listen=0.0.0.0:7401"});
  REQUIRE_FALSE(cfg);
  CHECK(error_text(cfg.error()).find("--insecure") != std::string::npos);
  CHECK(error_text(cfg.error()).find("listen 0.0.0.0") != std::string::npos);
  auto w = load_config({"--role=worker", "--join=10.0.0.1:7401"});
  REQUIRE_FALSE(w);
  CHECK(error_text(w.error()).find("join 10.0.0.1") != std::string::npos);
  auto ok = load_config(
      {"--role=coordinator", "--listen=0.0.0.0:7401", "--insecure"});
  REQUIRE(ok);
  CHECK(ok->security.insecure);
  CHECK(to_config_text(*ok).find("insecure = true") != std::string::npos);
  // Loopback needs nothing.
  CHECK(load_config({"--role=worker", "--join=127.0.0.1:7401"}));
}

TEST_CASE("cluster-token and cluster-token-file: the token is never printed") {
  test::temp_dir dir;
  auto file = dir.path + "/token";
  std::ofstream{file} << "from-a-file\n";
  auto cfg = load_config({"--cluster-token-file=" + file});
  REQUIRE(cfg);
  CHECK(cfg->security.cluster_token == "from-a-file"); // newline trimmed
  auto text = to_config_text(*cfg);
  CHECK(text.find("cluster-token-file = " + file) != std::string::npos);
  CHECK(text.find("from-a-file") == std::string::npos);
  auto inline_cfg = load_config({"--cluster-token=inline-secret"});
  REQUIRE(inline_cfg);
  CHECK(to_config_text(*inline_cfg).find("inline-secret") == std::string::npos);
  // The rendered text reads back (the hidden token line is a comment).
  node_config again;
  CHECK_FALSE(apply_config_text(again, to_config_text(*inline_cfg), "r"));
  CHECK_FALSE(load_config({"--cluster-token-file=" + dir.path + "/none"}));
  std::ofstream{dir.path + "/empty"} << "\n";
  CHECK_FALSE(load_config({"--cluster-token-file=" + dir.path + "/empty"}));
  CHECK_FALSE(load_config({"--cluster-token="}));
}

TEST_CASE("TLS: all three files, each checked, before the node starts") {
  test::temp_dir dir;
  auto d = dir.path;
  REQUIRE(mkcerts(d + "/a", "n1 n2"));
  REQUIRE(mkcerts(d + "/b", "n1"));
  auto a = d + "/a/";
  auto b = d + "/b/";
  CHECK_FALSE(check_tls_files(a + "n1.pem", a + "n1.key", a + "ca.pem"));
  // A certificate from another CA.
  auto other = check_tls_files(b + "n1.pem", b + "n1.key", a + "ca.pem");
  REQUIRE(other);
  CHECK(error_text(other).find("does not verify") != std::string::npos);
  // A key of another certificate.
  auto wrong_key = check_tls_files(a + "n1.pem", a + "n2.key", a + "ca.pem");
  REQUIRE(wrong_key);
  CHECK(error_text(wrong_key).find("tls-key") != std::string::npos);
  // Missing and unreadable files.
  CHECK(check_tls_files(a + "none.pem", a + "n1.key", a + "ca.pem"));
  CHECK(check_tls_files(a + "n1.pem", a + "none.key", a + "ca.pem"));
  CHECK(check_tls_files(a + "n1.pem", a + "n1.key", a + "none.pem"));
  CHECK(check_tls_files(a + "n1.key", a + "n1.key", a + "ca.pem"));
  // Through the config: one or two of the three keys is an error naming
  // the missing ones; all three load.
  auto partial = load_config({"--tls-cert=" + a + "n1.pem"});
  REQUIRE_FALSE(partial);
  CHECK(error_text(partial.error()).find("missing: tls-key tls-ca") !=
        std::string::npos);
  auto full =
      load_config({"--tls-cert=" + a + "n1.pem", "--tls-key=" + a + "n1.key",
                   "--tls-ca=" + a + "ca.pem", "--listen=0.0.0.0:7401"});
  REQUIRE(full); // TLS on a non-loopback address needs no --insecure
  CHECK(full->security.tls());
  auto text = to_config_text(*full);
  CHECK(text.find("tls-ca = " + a + "ca.pem") != std::string::npos);
  CHECK_FALSE(
      load_config({"--tls-cert=" + b + "n1.pem", "--tls-key=" + b + "n1.key",
                   "--tls-ca=" + a + "ca.pem"}));
}

TEST_CASE("client-tls needs the node's TLS files and loads them") {
  test::temp_dir dir;
  auto d = dir.path;
  REQUIRE(mkcerts(d + "/a", "n1"));
  auto a = d + "/a/";
  auto none = load_config({"--client-tls"});
  REQUIRE_FALSE(none);
  CHECK(error_text(none.error()).find("client-tls needs") != std::string::npos);
  auto ok =
      load_config({"--client-tls", "--tls-cert=" + a + "n1.pem",
                   "--tls-key=" + a + "n1.key", "--tls-ca=" + a + "ca.pem"});
  REQUIRE(ok);
  CHECK(ok->security.client_tls);
  CHECK(to_config_text(*ok).find("client-tls = true") != std::string::npos);
  CHECK_FALSE(load_config({"--client-tls=maybe"}));
  // Both ends of the context: the node's certificate, a client's CA.
  CHECK(tls_context::server(a + "n1.pem", a + "n1.key"));
  CHECK(tls_context::client(a + "ca.pem"));
  auto bad = tls_context::server(a + "n1.pem", a + "ca.pem");
  REQUIRE_FALSE(bad);
  CHECK(error_text(bad.error()).find("tls-key") != std::string::npos);
  CHECK_FALSE(tls_context::client(a + "none.pem"));
}
