// tartanctl on the Kubernetes datastore, through the test API server: `get gnp` lists the custom
// resources a Calico cluster has; `apply` writes ones that Calico would read; the datastore is
// chosen by --datastore, --kubeconfig, a CalicoAPIConfig file or Calico's environment.
#include "kubernetes_fixture.hpp"
#include "support/netns.hpp"

#include <cstdlib>

using namespace tartan;
using namespace tartan::test;

namespace {

namespace fs = std::filesystem;

struct Scratch {
  fs::path dir;
  Scratch() {
    std::string pattern = (fs::temp_directory_path() / "tartan-kdd-ctl-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
};

std::string tartanctl() {
  const char* dir = std::getenv("TARTAN_BINARY_DIR");
  REQUIRE(dir != nullptr);
  return std::string(dir) + "/src/cli/tartanctl";
}

// Runs tartanctl with no datastore in the environment but what `environment` sets.
CommandResult run(const std::string& environment, const std::string& args) {
  return shell("env -u TARTAN_DATASTORE -u DATASTORE_TYPE -u CALICO_DATASTORE_TYPE -u KUBECONFIG " +
               environment + " " + tartanctl() + " " + args);
}

}  // namespace

TEST_CASE("tartanctl reads and writes Calico's custom resources through the API", "[kubernetes-tartanctl]") {
  KubeFixture f;
  f.createNamespace("prod");
  Scratch scratch;
  const std::string kubeconfig = (scratch.dir / "kubeconfig").string();
  f.server.writeKubeconfig(kubeconfig, "test-token");
  auto gnps = kube::resources::calico("globalnetworkpolicies", "GlobalNetworkPolicy", false);
  REQUIRE(f.raw->create(gnps, Json::parse(R"j({
    "apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkPolicy",
    "metadata": {"name": "default.allow-dns",
                 "annotations": {"projectcalico.org/metadata": "{\"creationTimestamp\":null}"}},
    "spec": {"tier": "default", "order": 100, "selector": "all()", "types": ["Egress"],
             "egress": [{"action": "Allow", "protocol": "UDP", "destination": {"ports": [53]}}]}})j")));

  // Every way of choosing the datastore lists the same policy, under its v3 name.
  const std::string apiConfig =
      scratch.write("tartanctl.cfg",
                    "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n"
                    "  datastoreType: kubernetes\n  kubeconfig: " +
                        kubeconfig + "\n");
  struct Way {
    std::string environment;
    std::string args;
  };
  const Way ways[] = {
      {"", "--datastore kubernetes:" + kubeconfig},
      {"", "--datastore kubernetes --kubeconfig " + kubeconfig},
      {"", "--config " + apiConfig},
      {"DATASTORE_TYPE=kubernetes KUBECONFIG=" + kubeconfig, ""},
      {"CALICO_DATASTORE_TYPE=kubernetes CALICO_KUBECONFIG=" + kubeconfig, ""},
  };
  for (const Way& way : ways) {
    INFO(way.environment + " " + way.args);
    auto listed = run(way.environment, way.args + " get gnp");
    INFO(listed.output);
    REQUIRE(listed.exitCode == 0);
    CHECK(listed.output.find("allow-dns") != std::string::npos);
    CHECK(listed.output.find("default.allow-dns") == std::string::npos);
  }
  auto yaml = run("", "--datastore kubernetes:" + kubeconfig + " get gnp allow-dns -o yaml");
  INFO(yaml.output);
  REQUIRE(yaml.exitCode == 0);
  CHECK(yaml.output.find("order: 100") != std::string::npos);

  // apply of a multi-document file: custom resources Calico reads.
  const std::string manifest = scratch.write("policy.yaml", R"(apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: deny-all
spec:
  order: 2000
  selector: all()
  types: [Ingress]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: allow-web
  namespace: prod
spec:
  selector: app == 'web'
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [80]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: partners
  labels: {role: partner}
spec:
  nets: [198.51.100.0/24]
)");
  auto applied = run("", "--datastore kubernetes:" + kubeconfig + " apply -f " + manifest);
  INFO(applied.output);
  REQUIRE(applied.exitCode == 0);
  auto deny = f.raw->get(gnps, "", "default.deny-all");
  REQUIRE(deny);
  CHECK((*deny)["spec"]["order"] == 2000);
  // tartanctl stamps the creation time, as calicoctl's client does; it is kept in Calico's annotation.
  CHECK((*deny)["metadata"]["annotations"]["projectcalico.org/metadata"].get<std::string>().starts_with(
      R"({"creationTimestamp":"20)"));
  auto web = f.raw->get(kube::resources::calico("networkpolicies", "NetworkPolicy", true), "prod",
                        "default.allow-web");
  REQUIRE(web);
  CHECK((*web)["spec"]["ingress"][0]["destination"]["ports"][0] == 80);
  auto partners =
      f.raw->get(kube::resources::calico("globalnetworksets", "GlobalNetworkSet", false), "", "partners");
  REQUIRE(partners);
  CHECK((*partners)["metadata"]["labels"]["role"] == "partner");

  auto removed = run("", "--datastore kubernetes:" + kubeconfig + " delete gnp deny-all");
  INFO(removed.output);
  REQUIRE(removed.exitCode == 0);
  auto gone = f.raw->get(gnps, "", "default.deny-all");
  REQUIRE(!gone);
  CHECK(gone.error().kind == kube::ErrorKind::NotFound);

  // A bad CalicoAPIConfig is refused, naming the file and the field.
  const std::string bad = scratch.write(
      "bad.cfg",
      "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: kubernetes\n"
      "  k8sAPIToken: secret\n");
  auto refused = run("", "--config " + bad + " get gnp");
  CHECK(refused.exitCode != 0);
  CHECK(refused.output.find("spec.k8sAPIToken") != std::string::npos);
}
