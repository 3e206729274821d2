#include "runtime/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "messages/errc.hpp"

namespace dine {

namespace {

std::shared_ptr<SSL_CTX> new_ctx(const SSL_METHOD* method) {
  ERR_clear_error();
  auto* ctx = SSL_CTX_new(method);
  if (ctx == nullptr)
    return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(ctx, "HIGH:!aNULL:!MD5");
  // CAF's streams retry a write from a moved buffer, and take partial
  // writes (caf::io::network::stream).
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return {ctx, SSL_CTX_free};
}

caf::error fail(const char* key, const std::string& file, const char* what) {
  return make_error(errc::invalid_config,
                    std::string{"`"} + key + "` = `" + file + "`: " + what +
                        " (" + tls_context::last_error("no detail") + ")");
}

} // namespace

std::string tls_context::last_error(const char* fallback) {
  auto e = ERR_get_error();
  ERR_clear_error();
  if (e == 0)
    return fallback;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

caf::expected<tls_context> tls_context::server(const std::string& cert,
                                               const std::string& key) {
  tls_context out;
  out.server_ = true;
  out.ctx_ = new_ctx(TLS_server_method());
  if (!out.ctx_)
    return make_error(errc::internal, "cannot create an SSL context: " +
                                          last_error("no detail"));
  auto* ctx = out.ctx_.get();
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
    return fail("tls-cert", cert, "cannot load a PEM certificate chain");
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)
    return fail("tls-key", key, "cannot load an unencrypted PEM key");
  if (SSL_CTX_check_private_key(ctx) != 1)
    return fail("tls-key", key, "is not the key of `tls-cert`");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr); // clients have keys
  return out;
}

caf::expected<tls_context> tls_context::client(const std::string& ca,
                                               const std::string& name) {
  tls_context out;
  out.name_ = name;
  out.ctx_ = new_ctx(TLS_client_method());
  if (!out.ctx_)
    return make_error(errc::internal, "cannot create an SSL context: " +
                                          last_error("no detail"));
  auto* ctx = out.ctx_.get();
  if (ca.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1)
      return make_error(errc::invalid_config,
                        "cannot load the system's CA store: " +
                            last_error("no detail"));
  } else if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1) {
    return fail("ca", ca, "cannot load PEM CA certificates");
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return out;
}

SSL* tls_context::new_session(int fd) const {
  if (!ctx_)
    return nullptr;
  ERR_clear_error();
  auto* ssl = SSL_new(ctx_.get());
  if (ssl == nullptr)
    return nullptr;
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  if (server_) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
    if (!name_.empty()) {
      SSL_set_hostflags(ssl, 0);
      if (SSL_set1_host(ssl, name_.c_str()) != 1) {
        SSL_free(ssl);
        return nullptr;
      }
      SSL_set_tlsext_host_name(ssl, name_.c_str());
    }
  }
  return ssl;
}

} // namespace dine
