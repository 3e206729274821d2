#include "runtime/tls_files.hpp"

#include <memory>
#include <vector>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "messages/errc.hpp"

namespace dine {

namespace {

template <class T, void (*Free)(T*)>
struct ossl_deleter {
  void operator()(T* x) const { Free(x); }
};

using bio_ptr = std::unique_ptr<BIO, ossl_deleter<BIO, BIO_free_all>>;
using x509_ptr = std::unique_ptr<X509, ossl_deleter<X509, X509_free>>;
using pkey_ptr =
    std::unique_ptr<EVP_PKEY, ossl_deleter<EVP_PKEY, EVP_PKEY_free>>;
using store_ptr =
    std::unique_ptr<X509_STORE, ossl_deleter<X509_STORE, X509_STORE_free>>;
using store_ctx_ptr =
    std::unique_ptr<X509_STORE_CTX,
                    ossl_deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

caf::error fail(const std::string& what, const std::string& file,
                const std::string& why) {
  ERR_clear_error();
  return make_error(errc::invalid_config,
                    "`" + what + "` = `" + file + "`: " + why);
}

/// Never prompts for a passphrase: an encrypted key fails to load.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

/// Reads every certificate of a PEM file (a leaf, then its chain).
std::vector<x509_ptr> read_certs(const std::string& file) {
  std::vector<x509_ptr> out;
  bio_ptr in{BIO_new_file(file.c_str(), "r")};
  if (!in)
    return out;
  while (auto x = PEM_read_bio_X509(in.get(), nullptr, no_passphrase, nullptr))
    out.emplace_back(x);
  ERR_clear_error(); // the end of the file reads as an error
  return out;
}

} // namespace

caf::error check_tls_files(const std::string& cert, const std::string& key,
                           const std::string& ca) {
  auto chain = read_certs(cert);
  if (chain.empty())
    return fail("tls-cert", cert, "cannot read a PEM certificate from it");
  pkey_ptr pkey;
  {
    bio_ptr in{BIO_new_file(key.c_str(), "r")};
    if (!in)
      return fail("tls-key", key, "cannot open it");
    pkey.reset(
        PEM_read_bio_PrivateKey(in.get(), nullptr, no_passphrase, nullptr));
    if (!pkey)
      return fail("tls-key", key,
                  "not an unencrypted PEM private key (encrypted keys are "
                  "not supported)");
  }
  if (X509_check_private_key(chain.front().get(), pkey.get()) != 1)
    return fail("tls-key", key,
                "is not the private key of `tls-cert` = `" + cert + "`");
  auto cas = read_certs(ca);
  if (cas.empty())
    return fail("tls-ca", ca, "cannot read a PEM certificate from it");
  store_ptr store{X509_STORE_new()};
  for (auto& c : cas)
    X509_STORE_add_cert(store.get(), c.get());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (size_t i = 1; i < chain.size(); ++i)
    sk_X509_push(untrusted, chain[i].get());
  store_ctx_ptr ctx{X509_STORE_CTX_new()};
  X509_STORE_CTX_init(ctx.get(), store.get(), chain.front().get(), untrusted);
  auto ok = X509_verify_cert(ctx.get()) == 1;
  auto reason =
      X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  sk_X509_free(untrusted); // the certificates belong to `chain`
  if (!ok)
    return fail("tls-cert", cert,
                std::string{"does not verify against `tls-ca` = `"} + ca +
                    "`: " + reason);
  return caf::none;
}

} // namespace dine
