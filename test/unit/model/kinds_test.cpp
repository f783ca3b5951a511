// The kind table: names, aliases, scope, metadata access.
#include "test_support.hpp"

using namespace tartan::model;
using namespace tartan::model::test;
using tartan::Error;

TEST_CASE("lookupKind accepts names, plurals and Calico's short names in any case", "[model]") {
  CHECK(lookupKind("GlobalNetworkPolicy") == Kind::kGlobalNetworkPolicy);
  CHECK(lookupKind("globalnetworkpolicies") == Kind::kGlobalNetworkPolicy);
  CHECK(lookupKind("GNP") == Kind::kGlobalNetworkPolicy);
  CHECK(lookupKind("np") == Kind::kNetworkPolicy);
  CHECK(lookupKind("netset") == Kind::kNetworkSet);
  CHECK(lookupKind("gns") == Kind::kGlobalNetworkSet);
  CHECK(lookupKind("hep") == Kind::kHostEndpoint);
  CHECK(lookupKind("WEP") == Kind::kWorkloadEndpoint);
  CHECK(lookupKind("ippool") == Kind::kIPPool);
  CHECK(lookupKind("ippools") == Kind::kIPPool);
  CHECK(lookupKind("bgppeer") == Kind::kBGPPeer);
  CHECK(lookupKind("bgpconfig") == Kind::kBGPConfiguration);
  CHECK(lookupKind("felixconfiguration") == Kind::kAgentConfiguration);
  CHECK(lookupKind("node") == Kind::kNode);
  CHECK(lookupKind("k8snode") == Kind::kKubernetesNode);
  CHECK(lookupKind("knp") == Kind::kKubernetesNetworkPolicy);
  CHECK(lookupKind("pods") == Kind::kKubernetesPod);
  CHECK(lookupKind("ns") == Kind::kKubernetesNamespace);
  CHECK(lookupKind("sa") == Kind::kKubernetesServiceAccount);
  CHECK(lookupKind("tiers") == Kind::kTier);
  CHECK(lookupKind("ipamblocks") == Kind::kIPAMBlock);
  CHECK_FALSE(lookupKind("nonsense").has_value());
}

TEST_CASE("kind names, apiVersions and scope", "[model]") {
  CHECK(kindName(Kind::kAgentConfiguration) == "AgentConfiguration");
  CHECK(kindName(Kind::kKubernetesNetworkPolicy) == "NetworkPolicy");
  CHECK(apiVersion(Kind::kIPPool) == "tartan.dev/v1");
  CHECK(apiVersion(Kind::kKubernetesPod) == "v1");
  CHECK(apiVersion(Kind::kKubernetesNetworkPolicy) == "networking.k8s.io/v1");
  CHECK(isNamespaced(Kind::kNetworkPolicy));
  CHECK(isNamespaced(Kind::kWorkloadEndpoint));
  CHECK(isNamespaced(Kind::kKubernetesPod));
  CHECK_FALSE(isNamespaced(Kind::kGlobalNetworkPolicy));
  CHECK_FALSE(isNamespaced(Kind::kKubernetesNode));

  Resource r = Tier{};
  metadata(r).name = "t";
  CHECK(std::get<Tier>(r).metadata.name == "t");
  CHECK(kindOf(r) == Kind::kTier);
}

TEST_CASE("Kubernetes NetworkPolicy keeps absent and empty lists apart", "[model][kubernetes]") {
  const char* text = R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: x}
spec:
  podSelector: {}
  ingress:
  - {}
  - from: []
  egress: []
)";
  DecodeResult result = decode(text, "knp.yaml");
  INFO(errorsText(result));
  REQUIRE(result.ok());
  const auto& spec = std::get<KubernetesNetworkPolicy>(result.resources[0]).spec;
  REQUIRE(spec.ingress);
  CHECK_FALSE((*spec.ingress)[0].from.has_value());
  REQUIRE((*spec.ingress)[1].from.has_value());
  CHECK((*spec.ingress)[1].from->empty());
  REQUIRE(spec.egress);
  CHECK(spec.egress->empty());
  CHECK(effectivePolicyTypes(spec) == std::vector<std::string>{"Ingress"});
  requireRoundTrip(result.resources[0]);
}

TEST_CASE("Kubernetes NetworkPolicy is validated as Kubernetes validates it", "[model][kubernetes]") {
  auto knp = [](const std::string& spec) {
    return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec:\n" + spec;
  };
  struct Case {
    const char* name;
    std::string text;
    const char* where;
    const char* field;
    const char* what;
  };
  const Case cases[] = {
      {"ipBlock with a selector",
       knp("  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8}\n      "
           "podSelector: {}\n"),
       "in.yaml:8:16", "spec.ingress[0].from[0].ipBlock", "may not be specified with"},
      {"except outside the cidr",
       knp("  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/8, except: "
           "[11.0.0.0/16]}\n"),
       "in.yaml:8:44", "spec.egress[0].to[0].ipBlock.except[0]", "strict subset"},
      {"a bare address as cidr",
       knp("  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.1}\n"), "in.yaml:8:23",
       "spec.egress[0].to[0].ipBlock.cidr", "invalid CIDR"},
      {"an unknown protocol", knp("  podSelector: {}\n  ingress:\n  - ports:\n    - protocol: ICMP\n"),
       "in.yaml:8:17", "spec.ingress[0].ports[0].protocol", "unsupported protocol"},
      {"endPort below port",
       knp("  podSelector: {}\n  ingress:\n  - ports:\n    - {port: 100, endPort: 90}\n"), "in.yaml:8:28",
       "spec.ingress[0].ports[0].endPort", "between port and 65535"},
      {"endPort with a named port",
       knp("  podSelector: {}\n  ingress:\n  - ports:\n    - {port: http, endPort: 90}\n"), "in.yaml:8:29",
       "spec.ingress[0].ports[0].endPort", "named port"},
      {"a bad named port", knp("  podSelector: {}\n  ingress:\n  - ports:\n    - {port: Http_Port}\n"),
       "in.yaml:8:14", "spec.ingress[0].ports[0].port", "invalid named port"},
      {"port 0", knp("  podSelector: {}\n  ingress:\n  - ports:\n    - {port: 0}\n"), "in.yaml:8:14",
       "spec.ingress[0].ports[0].port", "between 1 and 65535"},
      {"an unknown selector operator",
       knp("  podSelector:\n    matchExpressions:\n    - {key: a, operator: Is}\n"), "in.yaml:7:26",
       "spec.podSelector.matchExpressions[0].operator", "unknown operator"},
      {"In without values", knp("  podSelector:\n    matchExpressions:\n    - {key: a, operator: In}\n"),
       "in.yaml:7:7", "spec.podSelector.matchExpressions[0].values", "must be specified"},
      {"an unknown policy type", knp("  podSelector: {}\n  policyTypes: [Both]\n"), "in.yaml:6:17",
       "spec.policyTypes[0]", "unsupported policy type"},
      {"an unknown field", knp("  podSelector: {}\n  ingres: []\n"), "in.yaml:6:3", "spec.ingres",
       "unknown field"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      Error e = onlyError(c.text);
      CHECK(e.where == c.where);
      CHECK(e.field == c.field);
      CHECK_THAT(e.what, Catch::Contains(c.what));
    }
  }
}

TEST_CASE(
    "Kubernetes Pods, Nodes, Namespaces and ServiceAccounts ignore fields networking does "
    "not read",
    "[model][kubernetes]") {
  DecodeResult result = decode(readTestdata("calico/kubernetes.yaml"), "k8s.yaml");
  INFO(errorsText(result));
  REQUIRE(result.ok());
  const auto& pod = std::get<KubernetesPod>(result.resources[2]);
  CHECK(pod.spec.nodeName == "node1");
  CHECK(pod.spec.containers[0].ports[0].containerPort == 80);
  CHECK(pod.status.podIPs.size() == 2);
  const auto& node = std::get<KubernetesNode>(result.resources[5]);
  CHECK(node.spec.podCIDRs.size() == 2);
  CHECK(node.status.addresses[0].address == "10.0.0.1");
}
