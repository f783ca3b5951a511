// Calico's CalicoAPIConfig file to a datastore spec: what each form means and what is refused.
#include "tartan/datastore/api_config.hpp"

#include <catch2/catch.hpp>

using namespace tartan::datastore;

namespace {
std::string config(const std::string& spec) {
  return "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n" + spec;
}
}  // namespace

TEST_CASE("a CalicoAPIConfig names the datastore as calicoctl reads it", "[api-config]") {
  struct Case {
    std::string spec;
    std::string datastore;
  };
  const Case cases[] = {
      {"  datastoreType: kubernetes\n", "kubernetes"},
      {"  datastoreType: kubernetes\n  kubeconfig: /root/.kube/config\n", "kubernetes:/root/.kube/config"},
      {"  datastoreType: etcdv3\n  etcdEndpoints: http://10.0.0.1:2379,http://10.0.0.2:2379\n",
       "etcdv3:http://10.0.0.1:2379,http://10.0.0.2:2379"},
      {"  etcdEndpoints: http://127.0.0.1:2379\n",
       "etcdv3:http://127.0.0.1:2379"},  // etcdv3 is Calico's default
      {"  datastoreType: etcdv3\n  etcdEndpoints: https://10.0.0.1:2379\n  etcdCACertFile: /etc/ca.pem\n"
       "  etcdCertFile: /etc/c.pem\n  etcdKeyFile: /etc/k.pem\n  etcdUsername: calico\n  etcdPassword: pw\n",
       "etcdv3:https://10.0.0.1:2379?ca=/etc/ca.pem&cert=/etc/c.pem&key=/etc/"
       "k.pem&username=calico&password=pw"},
  };
  for (const Case& c : cases) {
    INFO(c.spec);
    auto spec = datastoreSpecFromApiConfig(config(c.spec), "tartanctl.cfg");
    INFO((spec ? std::string() : spec.error().toString()));
    REQUIRE(spec);
    CHECK(*spec == c.datastore);
  }
}

TEST_CASE("a CalicoAPIConfig that cannot be used is an error naming the file and the field", "[api-config]") {
  struct Case {
    std::string text;
    std::string where;
    std::string field;
    std::string what;
  };
  const Case cases[] = {
      {config("  datastoreType: consul\n"), "tartanctl.cfg", "spec.datastoreType",
       "not kubernetes or etcdv3"},
      {config("  datastoreType: kubernetes\n  k8sAPIEndpoint: https://10.0.0.1:6443\n"), "tartanctl.cfg:6:19",
       "spec.k8sAPIEndpoint", "kubeconfig"},
      {config("  datastoreType: kubernetes\n  kubeconfg: /x\n"), "tartanctl.cfg:6:14", "spec.kubeconfg",
       "unknown field"},
      {config("  datastoreType: etcdv3\n"), "tartanctl.cfg", "spec.etcdEndpoints", "required"},
      {config("  datastoreType: kubernetes\n  etcdEndpoints: http://x:2379\n"), "tartanctl.cfg",
       "spec.etcdEndpoints", "etcdv3"},
      {config("  datastoreType: kubernetes\n  etcdCACertFile: /etc/ca.pem\n"), "tartanctl.cfg",
       "spec.etcdCACertFile", "etcdv3"},
      {config("  etcdEndpoints: http://x:2379\n  etcdKeyFile: /a&b\n"), "tartanctl.cfg:6:16",
       "spec.etcdKeyFile", "'&'"},
      {config("  datastoreType: [kubernetes]\n"), "tartanctl.cfg:5:18", "spec.datastoreType",
       "expected a string"},
      {"apiVersion: projectcalico.org/v3\nkind: IPPool\nspec: {}\n", "tartanctl.cfg:2:7", "kind",
       "expected CalicoAPIConfig"},
      {"apiVersion: v1\nkind: CalicoAPIConfig\nspec: {}\n", "tartanctl.cfg:1:13", "apiVersion", "expected"},
      {"apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\n", "tartanctl.cfg", "spec", "missing"},
      {"[1, 2", "tartanctl.cfg:1:1", "", "end of sequence"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto spec = datastoreSpecFromApiConfig(c.text, "tartanctl.cfg");
    REQUIRE(!spec);
    INFO(spec.error().toString());
    CHECK(spec.error().where == c.where);
    CHECK(spec.error().field == c.field);
    CHECK(spec.error().what.find(c.what) != std::string::npos);
  }
  auto missing = loadApiConfig("/nonexistent/tartanctl.cfg", false);
  REQUIRE(missing.has_value());
  CHECK(!missing->has_value());
  auto required = loadApiConfig("/nonexistent/tartanctl.cfg", true);
  REQUIRE(!required.has_value());
  CHECK(required.error().what == "no such file");
}
