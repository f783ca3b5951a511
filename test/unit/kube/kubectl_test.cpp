// An independent client: Debian's kubectl applies a CRD, a Namespace, a Pod, a NetworkPolicy and
// a custom resource to the test API server, reads them back as JSON, and `kubectl get -w` sees a
// change our client makes. If kubectl accepts the server, the server speaks the API as kubectl
// expects it, so what the client's tests prove against it holds for a real one too.
#include "util.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tartan::kube {
namespace {

using testing::clientFor;
using testing::TempDir;

using test::kKubectl;
using test::Kubectl;

std::string run(const TempDir& dir, const std::vector<std::string>& args, int* status) {
  Kubectl kubectl(dir, args);
  *status = kubectl.wait();
  return kubectl.output();
}

Json getJson(const TempDir& dir, const std::vector<std::string>& args) {
  int status = 0;
  std::vector<std::string> all = {"get", "-o", "json"};
  all.insert(all.end(), args.begin(), args.end());
  const std::string out = run(dir, all, &status);
  INFO(out);
  REQUIRE(status == 0);
  Json parsed = Json::parse(out, nullptr, false);
  REQUIRE(parsed.is_object());
  return parsed;
}

const char* kCrd = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: globalnetworkpolicies.crd.projectcalico.org
spec:
  group: crd.projectcalico.org
  scope: Cluster
  names:
    kind: GlobalNetworkPolicy
    listKind: GlobalNetworkPolicyList
    plural: globalnetworkpolicies
    singular: globalnetworkpolicy
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
)";

const char* kWorkload = R"(apiVersion: v1
kind: Namespace
metadata:
  name: demo
  labels:
    team: blue
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: demo
  labels:
    app: web
spec:
  containers:
  - name: web
    image: nginx
    ports:
    - name: http
      containerPort: 80
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-http
  namespace: demo
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes: [Ingress]
  ingress:
  - ports:
    - port: http
      protocol: TCP
    from:
    - ipBlock:
        cidr: 10.0.0.0/8
        except: [10.1.0.0/16]
)";

const char* kPolicy = R"(apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata:
  name: default.deny-all
spec:
  tier: default
  order: 1000
  selector: all()
  types: [Ingress, Egress]
)";

TEST_CASE("kubectl applies a CRD, core kinds and a custom resource, reads them back and watches a change",
          "[kube][kubectl]") {
  if (::access(kKubectl, X_OK) != 0) {
    WARN("kubectl is not installed (scripts/install-deps installs kubernetes-client)");
    return;
  }
  test::KubeTestServer server;
  TempDir dir;
  server.writeKubeconfig(dir.file("kubeconfig"), "test-token");
  dir.write("crd.yaml", kCrd);
  dir.write("workload.yaml", kWorkload);
  dir.write("policy.yaml", kPolicy);

  int status = 0;
  std::string out = run(dir, {"version", "-o", "json"}, &status);
  INFO(out);
  REQUIRE(status == 0);
  CHECK_THAT(out, Catch::Contains("v1.32.0-tartan-test"));

  // kubectl 1.25 and later have the server validate (fieldValidation), which the fake does as far
  // as it knows schemas; an older kubectl (Debian 12's kubernetes-client is 1.20) validates against
  // /openapi/v2 schemas the fake does not serve, so it is asked not to.
  const Json version = Json::parse(out, nullptr, false);
  std::string minor = version.is_object() ? version["clientVersion"].value("minor", "0") : "0";
  const bool serverValidates = std::atoi(minor.c_str()) >= 25;
  auto apply = [&](const std::string& file) {
    std::vector<std::string> args = {"apply", "-f", file};
    if (!serverValidates) args.push_back("--validate=false");
    return run(dir, args, &status);
  };
  out = apply(dir.file("crd.yaml"));
  INFO(out);
  REQUIRE(status == 0);
  CHECK_THAT(out, Catch::Contains("globalnetworkpolicies.crd.projectcalico.org created"));
  out = apply(dir.file("workload.yaml"));
  INFO(out);
  REQUIRE(status == 0);
  CHECK_THAT(out, Catch::Contains("namespace/demo created"));
  CHECK_THAT(out, Catch::Contains("pod/web created"));
  CHECK_THAT(out, Catch::Contains("networkpolicy.networking.k8s.io/allow-http created"));
  out = apply(dir.file("policy.yaml"));
  INFO(out);
  REQUIRE(status == 0);
  CHECK_THAT(out, Catch::Contains("globalnetworkpolicy.crd.projectcalico.org/default.deny-all created"));

  // Validation is the server's (fieldValidation=Strict): an unknown field is refused.
  dir.write("typo.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: typo\n  lables: {a: b}\n");
  if (serverValidates) {
    out = apply(dir.file("typo.yaml"));
    CHECK(status != 0);
    CHECK_THAT(out, Catch::Contains("unknown field \"metadata.lables\""));
  }

  // A second apply of the custom resource is a merge patch of what changed.
  dir.write("policy.yaml",
            std::string(kPolicy).replace(std::string(kPolicy).find("order: 1000"), 11, "order: 900"));
  out = apply(dir.file("policy.yaml"));
  INFO(out);
  REQUIRE(status == 0);
  CHECK_THAT(out, Catch::Contains("globalnetworkpolicy.crd.projectcalico.org/default.deny-all configured"));

  // Read back by kubectl, and by our client: the same objects.
  Json pod = getJson(dir, {"-n", "demo", "pod", "web"});
  CHECK(pod["spec"]["containers"][0]["ports"][0]["name"] == "http");
  CHECK(pod["metadata"]["annotations"].contains("kubectl.kubernetes.io/last-applied-configuration"));
  Json policy = getJson(dir, {"-n", "demo", "networkpolicy", "allow-http"});
  CHECK(policy["spec"]["ingress"][0]["from"][0]["ipBlock"]["except"][0] == "10.1.0.0/16");
  Json gnp = getJson(dir, {"globalnetworkpolicy", "default.deny-all"});
  CHECK(gnp["spec"]["selector"] == "all()");
  CHECK(gnp["spec"]["order"] == 900);
  Json namespaces = getJson(dir, {"namespaces", "-l", "team=blue"});
  REQUIRE(namespaces["items"].size() == 1);
  CHECK(namespaces["items"][0]["metadata"]["name"] == "demo");
  auto client = clientFor(server);
  auto ours = client->get(resources::calico("globalnetworkpolicies", "GlobalNetworkPolicy", false), "",
                          "default.deny-all");
  REQUIRE(ours);
  CHECK((*ours)["metadata"]["resourceVersion"] == gnp["metadata"]["resourceVersion"]);
  CHECK((*ours)["spec"] == gnp["spec"]);

  // kubectl get -w sees what our client changes.
  Kubectl watch(dir, {"get", "pods", "-n", "demo", "-w", "-o", "json", "--output-watch-events"});
  REQUIRE(watch.readUntil([](const std::string& o) { return o.find("\"ADDED\"") != std::string::npos; },
                          std::chrono::seconds(30)));
  REQUIRE(client->patch(resources::pods(), "demo", "web", PatchType::Merge,
                        {{"metadata", {{"labels", {{"version", "v2"}}}}}}));
  const bool seen = watch.readUntil(
      [](const std::string& o) {
        return o.find("\"MODIFIED\"") != std::string::npos &&
               o.find("\"version\":\"v2\"") != std::string::npos;
      },
      std::chrono::seconds(30));
  INFO(watch.output());
  CHECK(seen);

  // And kubectl deletes what it made.
  out = run(dir, {"delete", "-f", dir.file("policy.yaml")}, &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(client
            ->get(resources::calico("globalnetworkpolicies", "GlobalNetworkPolicy", false), "",
                  "default.deny-all")
            .error()
            .kind == ErrorKind::NotFound);
}

}  // namespace
}  // namespace tartan::kube
