// TLS with client certificates (a CA made with openssl by the test) and user/password auth,
// against a real etcd: the right credentials work, a wrong CA and a wrong password are refused.
#include "etcd_client.hpp"
#include "etcd_server.hpp"
#include "support/skip.hpp"
#include "tartan/datastore/etcd_datastore.hpp"

#include <catch2/catch.hpp>

namespace tartan::datastore {
namespace {

using test::etcd::EtcdServer;
using test::etcd::run;

const char* kPool =
    "apiVersion: tartan.dev/v1\nkind: IPPool\nmetadata:\n  name: pool\nspec:\n  cidr: 10.65.0.0/16\n";

// A CA and certificates signed by it, in `dir`.
struct Pki {
  std::string dir;
  explicit Pki(std::string d) : dir(std::move(d)) {}
  std::string path(const std::string& name) const { return dir + "/" + name; }

  void makeCa(const std::string& name) {
    REQUIRE(run({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                 "/CN=" + name, "-keyout", path(name + ".key"), "-out", path(name + ".crt")})
                .status == 0);
  }
  // A certificate for 127.0.0.1 (server and client use) signed by `ca`.
  void makeCert(const std::string& name, const std::string& ca) {
    std::string ext = path(name + ".ext");
    std::ofstream(ext) << "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n";
    REQUIRE(run({"/usr/bin/openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name,
                 "-keyout", path(name + ".key"), "-out", path(name + ".csr")})
                .status == 0);
    REQUIRE(run({"/usr/bin/openssl", "x509", "-req", "-in", path(name + ".csr"), "-CA", path(ca + ".crt"),
                 "-CAkey", path(ca + ".key"), "-CAcreateserial", "-days", "1", "-extfile", ext, "-out",
                 path(name + ".crt")})
                .status == 0);
  }
};

#define SKIP_WITHOUT_ETCD()                                                 \
  if (!test::etcd::haveEtcd() || ::access("/usr/bin/openssl", X_OK) != 0) { \
    WARN("etcd or openssl is not installed (scripts/install-deps)");        \
    test::markSkipped();                                                    \
    return;                                                                 \
  }

TEST_CASE("TLS with client certificates: Calico's ETCD_*_FILE variables work; a wrong CA is refused",
          "[interop]") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  Pki pki(etcd.dir());
  pki.makeCa("ca");
  pki.makeCa("other-ca");
  pki.makeCert("server", "ca");
  pki.makeCert("client", "ca");
  etcd.useTls(pki.path("server.crt"), pki.path("server.key"), pki.path("ca.crt"), pki.path("client.crt"),
              pki.path("client.key"));
  etcd.start();
  REQUIRE(etcd.waitHealthy());

  ::setenv("CALICO_ETCD_CA_CERT_FILE", pki.path("ca.crt").c_str(), 1);
  ::setenv("ETCD_CERT_FILE", pki.path("client.crt").c_str(), 1);
  ::setenv("ETCD_KEY_FILE", pki.path("client.key").c_str(), 1);
  auto store = open("etcdv3:" + etcd.endpoint());
  ::unsetenv("CALICO_ETCD_CA_CERT_FILE");
  ::unsetenv("ETCD_CERT_FILE");
  ::unsetenv("ETCD_KEY_FILE");
  REQUIRE(store);
  REQUIRE((*store)->create(Key{"IPPool", "", "pool"}, kPool));
  CHECK(etcd.ctl({"get", "/calico/resources/v3/projectcalico.org/ippools/pool"}).out.find("10.65.0.0/16") !=
        std::string::npos);

  EtcdOptions options;
  options.endpoints = {etcd.endpoint()};
  options.callTimeout = std::chrono::milliseconds(2000);
  options.certFile = pki.path("client.crt");
  options.keyFile = pki.path("client.key");
  options.caFile = pki.path("other-ca.crt");
  auto wrongCa = openEtcdDatastore(options);
  REQUIRE(wrongCa);
  auto refused = (*wrongCa)->get(Key{"IPPool", "", "pool"});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::Unavailable);

  options.caFile = pki.path("ca.crt");
  options.certFile.clear();
  options.keyFile.clear();
  auto noClientCert = openEtcdDatastore(options);
  REQUIRE(noClientCert);
  CHECK_FALSE((*noClientCert)->get(Key{"IPPool", "", "pool"}));

  // Files that cannot be used are one-line errors at open.
  options.caFile = pki.path("missing.crt");
  auto missing = openEtcdDatastore(options);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::Invalid);
  CHECK(missing.error().toString().find("missing.crt") != std::string::npos);
  options.caFile = pki.path("ca.crt");
  options.endpoints = {"http://127.0.0.1:2379"};
  CHECK(openEtcdDatastore(options).error().kind == ErrorKind::Invalid);  // TLS files for an http endpoint
}

TEST_CASE("user and password: the right ones work, a wrong password is refused", "[interop]") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  etcd.start();
  REQUIRE(etcd.waitHealthy());
  REQUIRE(etcd.ctl({"user", "add", "root", "--new-user-password=root-pw"}).status == 0);
  REQUIRE(etcd.ctl({"user", "grant-role", "root", "root"}).status == 0);
  REQUIRE(etcd.ctl({"auth", "enable"}).status == 0);
  etcd.ctlUser("root:root-pw");

  ::setenv("ETCD_USERNAME", "root", 1);
  ::setenv("ETCD_PASSWORD", "root-pw", 1);
  auto store = open("etcdv3:" + etcd.endpoint());
  ::setenv("ETCD_PASSWORD", "wrong", 1);
  auto wrong = open("etcdv3:" + etcd.endpoint());
  ::unsetenv("ETCD_USERNAME");
  ::unsetenv("ETCD_PASSWORD");
  REQUIRE(store);
  REQUIRE((*store)->create(Key{"IPPool", "", "pool"}, kPool));
  CHECK(etcd.ctl({"get", "/calico/resources/v3/projectcalico.org/ippools/pool"}).out.find("10.65.0.0/16") !=
        std::string::npos);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().toString().find("authentication failed") != std::string::npos);

  EtcdOptions anonymous;
  anonymous.endpoints = {etcd.endpoint()};
  auto noUser = openEtcdDatastore(anonymous);
  REQUIRE(noUser);
  CHECK_FALSE((*noUser)->get(Key{"IPPool", "", "pool"}));
}

TEST_CASE("a lease is granted, kept alive and revoked; its keys go with it", "[interop]") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  etcd.start();
  REQUIRE(etcd.waitHealthy());
  etcd::ClientConfig config;
  config.endpoints = {etcd.endpoint()};
  auto client = etcd::Client::connect(config).value();
  auto [lease, ttl] = client->grantLease(60).value();
  CHECK(ttl == 60);
  using Op = etcd::TxnOp;
  REQUIRE(client->txn({}, {Op{Op::Type::Put, "/calico/felix/v2/no-region/host/n1/status", "{}", lease}}, {})
              .has_value());
  auto kept = client->keepAlive(lease);
  REQUIRE(kept);
  CHECK(*kept > 0);
  CHECK(etcd.ctl({"get", "/calico/felix/v2/no-region/host/n1/status"}).out.find("status") !=
        std::string::npos);
  REQUIRE(client->revokeLease(lease).has_value());
  CHECK(client->range("/calico/felix/v2/no-region/host/n1/status", "").value().kvs.empty());
  auto gone = client->keepAlive(lease);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().kind == ErrorKind::NotFound);
}

}  // namespace
}  // namespace tartan::datastore
