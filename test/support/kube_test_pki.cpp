// Certificates for the test API server, made with OpenSSL 3's API at test time.
#include "support/kube_test_pki.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <memory>
#include <stdexcept>

namespace tartan::test {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what);
}

std::string bioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

void addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

}  // namespace

KeyPair makeCertificate(const std::string& commonName, const std::vector<std::string>& subjectAltNames,
                        const KeyPair* issuer, bool isCa, const std::string& organization) {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "key");
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  static std::atomic<long> serial{1000};
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24L * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!organization.empty()) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(organization.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(commonName.c_str()), -1, -1, 0);

  Key issuerKey;
  Cert issuerCert;
  if (issuer != nullptr) {
    Bio certBio(BIO_new_mem_buf(issuer->certPem.data(), static_cast<int>(issuer->certPem.size())));
    issuerCert.reset(PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr));
    Bio keyBio(BIO_new_mem_buf(issuer->keyPem.data(), static_cast<int>(issuer->keyPem.size())));
    issuerKey.reset(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
    check(issuerCert && issuerKey, "issuer");
    X509_set_issuer_name(cert.get(), X509_get_subject_name(issuerCert.get()));
  } else {
    X509_set_issuer_name(cert.get(), name);
  }
  X509* signer = issuer != nullptr ? issuerCert.get() : cert.get();
  addExtension(cert.get(), signer, NID_basic_constraints, isCa ? "critical,CA:TRUE" : "critical,CA:FALSE");
  addExtension(
      cert.get(), signer, NID_key_usage,
      isCa ? "critical,keyCertSign,cRLSign,digitalSignature" : "critical,digitalSignature,keyEncipherment");
  if (!isCa) addExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
  addExtension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (!subjectAltNames.empty()) {
    std::string sans;
    for (const std::string& san : subjectAltNames) sans += (sans.empty() ? "" : ",") + san;
    addExtension(cert.get(), signer, NID_subject_alt_name, sans);
  }
  check(X509_sign(cert.get(), issuer != nullptr ? issuerKey.get() : key.get(), EVP_sha256()) > 0, "sign");

  KeyPair out;
  Bio certOut(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(certOut.get(), cert.get());
  out.certPem = bioText(certOut.get());
  Bio keyOut(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(keyOut.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  out.keyPem = bioText(keyOut.get());
  return out;
}

TestPki TestPki::generate(const std::vector<std::string>& serverNames) {
  TestPki pki;
  pki.ca = makeCertificate("tartan-test-ca", {}, nullptr, true);
  pki.server = makeCertificate("kube-apiserver", serverNames, &pki.ca, false);
  pki.client = makeCertificate("tartan-test", {}, &pki.ca, false, "system:masters");
  pki.otherCa = makeCertificate("another-ca", {}, nullptr, true);
  return pki;
}

}  // namespace tartan::test
