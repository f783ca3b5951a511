// Calico's staged policies and ClusterInformation: decoded, validated and written as Calico
// writes them; a staged policy is validated as the policy it would set.
#include "test_support.hpp"

using namespace tartan::model;
using namespace tartan::model::test;

TEST_CASE("staged policies decode with their policy's fields beside stagedAction, and round-trip",
          "[model][staged]") {
  const DecodeResult result = decode(R"(apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata:
  name: preview-deny
spec:
  stagedAction: Set
  order: 10
  selector: app == 'db'
  types: [Ingress]
  ingress:
  - action: Deny
    source:
      nets: [10.0.0.0/8]
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata:
  name: preview-allow
  namespace: shop
spec:
  selector: app == 'web'
  ingress:
  - action: Allow
---
apiVersion: projectcalico.org/v3
kind: StagedKubernetesNetworkPolicy
metadata:
  name: preview-knp
  namespace: shop
spec:
  stagedAction: Delete
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
---
apiVersion: projectcalico.org/v3
kind: ClusterInformation
metadata:
  name: default
spec:
  clusterGUID: 4a1c2b
  clusterType: k8s,bgp,kubeadm
  calicoVersion: v3.29.0
  datastoreReady: true
)",
                                     "in.yaml");
  INFO(errorsText(result));
  REQUIRE(result.ok());
  REQUIRE(result.resources.size() == 4);
  const auto& gnp = std::get<StagedGlobalNetworkPolicy>(result.resources[0]);
  CHECK(gnp.spec.stagedAction == "Set");
  CHECK(gnp.spec.policy.selector == "app == 'db'");
  CHECK(gnp.spec.policy.ingress.at(0).action == "Deny");
  const auto& np = std::get<StagedNetworkPolicy>(result.resources[1]);
  CHECK(np.spec.stagedAction == "Set");  // Calico's default
  CHECK(np.spec.policy.tier == "default");
  CHECK(std::get<StagedKubernetesNetworkPolicy>(result.resources[2]).spec.stagedAction == "Delete");
  CHECK(std::get<ClusterInformation>(result.resources[3]).spec.calicoVersion == "v3.29.0");
  for (const Resource& r : result.resources) requireRoundTrip(r);
  CHECK(encodeYaml(result.resources[0]).find("kind: StagedGlobalNetworkPolicy\n") != std::string::npos);
}

TEST_CASE("a staged policy is validated as the policy it would set", "[model][staged]") {
  const tartan::Error action = onlyError(R"(apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata:
  name: p
spec:
  stagedAction: Maybe
)");
  CHECK(action.field == "spec.stagedAction");
  CHECK_THAT(action.what, Catch::Contains("Set, Delete, Learn, Ignore"));
  const tartan::Error rule = onlyError(R"(apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata:
  name: p
  namespace: shop
spec:
  ingress:
  - action: Allow
    destination:
      ports: [80]
)");
  CHECK(rule.where == "in.yaml:10:14");
  CHECK(rule.field == "spec.ingress[0].destination.ports");
}
