// Calico's storage layout: every kind's names and scope, the policy-name rule, and documents
// converted to Calico's v3 objects and custom resources and back.
#include "tartan/datastore/calico_layout.hpp"

#include "calico_samples.hpp"
#include "tartan/model/model.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace tartan;
using namespace tartan::datastore::calico;
using model::Kind;
using tartan::test::Sample;
using tartan::test::samples;

namespace {

model::Resource decodeOne(const std::string& text) {
  auto decoded = model::decode(text, "test");
  INFO(text);
  INFO((decoded.errors.empty() ? std::string() : decoded.errors.front().toString()));
  REQUIRE(decoded.ok());
  REQUIRE(decoded.resources.size() == 1);
  return decoded.resources.front();
}

}  // namespace

TEST_CASE("every kind has Calico's plural, custom resource kind and scope", "[calico-layout]") {
  struct Case {
    Kind kind;
    const char* plural;
    const char* crdKind;
    bool namespaced;
    KubernetesStorage storage;
  };
  using S = KubernetesStorage;
  const Case cases[] = {
      {Kind::kGlobalNetworkPolicy, "globalnetworkpolicies", "GlobalNetworkPolicy", false, S::kCustomResource},
      {Kind::kNetworkPolicy, "networkpolicies", "NetworkPolicy", true, S::kCustomResource},
      {Kind::kTier, "tiers", "Tier", false, S::kCustomResource},
      {Kind::kGlobalNetworkSet, "globalnetworksets", "GlobalNetworkSet", false, S::kCustomResource},
      {Kind::kNetworkSet, "networksets", "NetworkSet", true, S::kCustomResource},
      {Kind::kHostEndpoint, "hostendpoints", "HostEndpoint", false, S::kCustomResource},
      {Kind::kWorkloadEndpoint, "workloadendpoints", "", true, S::kDerivedFromPods},
      {Kind::kIPPool, "ippools", "IPPool", false, S::kCustomResource},
      {Kind::kBGPConfiguration, "bgpconfigurations", "BGPConfiguration", false, S::kCustomResource},
      {Kind::kBGPPeer, "bgppeers", "BGPPeer", false, S::kCustomResource},
      {Kind::kBGPFilter, "bgpfilters", "BGPFilter", false, S::kCustomResource},
      {Kind::kNode, "nodes", "", false, S::kKubernetesNode},
      {Kind::kAgentConfiguration, "felixconfigurations", "FelixConfiguration", false, S::kCustomResource},
      {Kind::kIPAMBlock, "ipamblocks", "IPAMBlock", false, S::kCustomResource},
      {Kind::kBlockAffinity, "blockaffinities", "BlockAffinity", false, S::kCustomResource},
      {Kind::kIPAMHandle, "ipamhandles", "IPAMHandle", false, S::kCustomResource},
      {Kind::kIPAMConfiguration, "ipamconfigs", "IPAMConfig", false, S::kCustomResource},
      {Kind::kIPReservation, "ipreservations", "IPReservation", false, S::kCustomResource},
      {Kind::kStagedGlobalNetworkPolicy, "stagedglobalnetworkpolicies", "StagedGlobalNetworkPolicy", false,
       S::kCustomResource},
      {Kind::kStagedNetworkPolicy, "stagednetworkpolicies", "StagedNetworkPolicy", true, S::kCustomResource},
      {Kind::kStagedKubernetesNetworkPolicy, "stagedkubernetesnetworkpolicies",
       "StagedKubernetesNetworkPolicy", true, S::kCustomResource},
      {Kind::kClusterInformation, "clusterinformations", "ClusterInformation", false, S::kCustomResource},
      {Kind::kKubernetesNamespace, "namespaces", "", false, S::kKubernetesObject},
      {Kind::kKubernetesPod, "pods", "", true, S::kKubernetesObject},
      {Kind::kKubernetesServiceAccount, "serviceaccounts", "", true, S::kKubernetesObject},
      {Kind::kKubernetesNode, "nodes", "", false, S::kKubernetesObject},
      {Kind::kKubernetesNetworkPolicy, "networkpolicies", "", true, S::kKubernetesObject},
      {Kind::kKubernetesService, "services", "", true, S::kKubernetesObject},
      {Kind::kKubernetesEndpointSlice, "endpointslices", "", true, S::kKubernetesObject},
  };
  REQUIRE(std::size(cases) == kinds().size());
  for (const Case& c : cases) {
    REQUIRE(layoutOf(c.kind) != nullptr);
    const KindLayout& layout = *layoutOf(c.kind);
    INFO(layout.storageKind);
    CHECK(layout.kind == c.kind);
    CHECK(layout.plural == c.plural);
    CHECK(layout.crdKind == c.crdKind);
    CHECK(layout.namespaced == c.namespaced);
    CHECK(layout.namespaced == model::isNamespaced(c.kind));
    CHECK(layout.storage == c.storage);
    CHECK(layoutByStorageKind(layout.storageKind) == &layout);
    if (!layout.crdKind.empty()) CHECK(layoutByCrdKind(layout.crdKind) == &layout);
  }
  CHECK(layoutByStorageKind("Profile") == nullptr);
  CHECK(layoutByCrdKind("") == nullptr);
  CHECK(layoutByCrdKind("KubeControllersConfiguration") == nullptr);
}

TEST_CASE("a default-tier policy is stored as default.<name> and read back as <name>", "[calico-layout]") {
  struct Case {
    const char* v3Name;
    const char* stored;
    std::vector<std::string> storedForms;
  };
  const Case cases[] = {
      {"allow-dns", "default.allow-dns", {"default.allow-dns", "allow-dns"}},
      {"default.allow-dns", "default.allow-dns", {"default.allow-dns", "allow-dns"}},
      {"sec.allow-dns", "sec.allow-dns", {"sec.allow-dns"}},
      {"knp.default.web", "knp.default.web", {"knp.default.web"}},
  };
  for (const Case& c : cases) {
    INFO(c.v3Name);
    CHECK(backendPolicyName(c.v3Name) == c.stored);
    CHECK(storedPolicyNames(c.v3Name) == c.storedForms);
  }
  struct Read {
    const char* stored;
    const char* v3Name;
  };
  const Read reads[] = {
      {"default.allow-dns", "allow-dns"},  // the form Calico writes
      {"allow-dns", "allow-dns"},          // the newer unprefixed form
      {"sec.allow-dns", "sec.allow-dns"},  // another tier keeps its prefix
      {"default.", "default."},            // nothing after the prefix: not a prefix
  };
  for (const Read& r : reads) {
    INFO(r.stored);
    CHECK(v3PolicyName(r.stored) == r.v3Name);
  }
  CHECK(keyName(*layoutOf(Kind::kGlobalNetworkPolicy), "default.x") == "x");
  CHECK(keyName(*layoutOf(Kind::kGlobalNetworkSet), "default.x") == "default.x");
}

TEST_CASE("the metadata annotation is what Calico marshals: Go's field order, creationTimestamp always",
          "[calico-layout]") {
  struct Case {
    const char* metadata;
    const char* annotation;
  };
  const Case cases[] = {
      {R"({"name":"x","namespace":"n","resourceVersion":"7","labels":{"a":"b"}})",
       R"({"creationTimestamp":null})"},
      {R"({"name":"x","creationTimestamp":"2024-01-02T03:04:05Z","uid":"u"})",
       R"({"creationTimestamp":"2024-01-02T03:04:05Z"})"},
      {R"({"finalizers":["f"],"generation":3,"generateName":"g-","deletionTimestamp":"2024-02-02T00:00:00Z"})",
       R"({"generateName":"g-","generation":3,"creationTimestamp":null,"deletionTimestamp":"2024-02-02T00:00:00Z","finalizers":["f"]})"},
  };
  for (const Case& c : cases) {
    INFO(c.metadata);
    CHECK(metadataAnnotation(Json::parse(c.metadata)) == c.annotation);
  }
}

TEST_CASE("every Calico kind goes to its custom resource and comes back the same resource",
          "[calico-layout]") {
  std::set<Kind> covered;
  for (const Sample& sample : samples()) {
    REQUIRE(layoutOf(sample.kind) != nullptr);
    const KindLayout& layout = *layoutOf(sample.kind);
    INFO(layout.storageKind);
    model::Resource original = decodeOne(sample.document);
    REQUIRE(model::kindOf(original) == sample.kind);
    std::string document = model::encodeYaml(original);

    auto cr = toCustomResource(document, "doc");
    INFO((cr ? cr->dump() : cr.error().toString()));
    REQUIRE(cr);
    CHECK((*cr)["apiVersion"] == "crd.projectcalico.org/v1");
    CHECK((*cr)["kind"] == layout.crdKind);
    CHECK((*cr)["metadata"]["annotations"].contains("projectcalico.org/metadata"));
    CHECK(!(*cr)["metadata"].contains("resourceVersion"));
    CHECK(((*cr)["metadata"].contains("namespace")) == layout.namespaced);

    // spec verbatim: the model's own JSON of the spec.
    Json modelJson = Json::parse(model::encodeJson(original));
    CHECK((*cr)["spec"] == modelJson["spec"]);

    auto back = fromCustomResource(*cr, "cr");
    INFO((back ? *back : back.error().toString()));
    REQUIRE(back);
    model::Resource read = decodeOne(*back);
    model::Resource expected = original;
    if (layout.tiered) model::metadata(expected).name = v3PolicyName(model::metadata(expected).name);
    CHECK(read == expected);
    CHECK(*back == model::encodeYaml(expected));

    auto v3 = toV3Object(document, "doc");
    REQUIRE(v3);
    CHECK((*v3)["apiVersion"] == "projectcalico.org/v3");
    CHECK((*v3)["kind"] == layout.v3Kind);
    auto fromV3 = fromV3Object(*v3, "v3");
    REQUIRE(fromV3);
    CHECK(*fromV3 == model::encodeYaml(expected));
    covered.insert(sample.kind);
  }
  for (const KindLayout& layout : kinds()) {
    if (layout.storage == KubernetesStorage::kCustomResource) {
      INFO(layout.storageKind);
      CHECK(covered.count(layout.kind) == 1);
    }
  }
}

TEST_CASE("a default-tier policy's custom resource is named default.<name>", "[calico-layout]") {
  struct Case {
    const char* document;
    const char* crName;
  };
  const Case cases[] = {
      {"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: a}\nspec: {selector: "
       "all()}\n",
       "default.a"},
      {"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: default.a}\n"
       "spec: {selector: all()}\n",
       "default.a"},
      {"apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: a, namespace: n}\n"
       "spec: {selector: all()}\n",
       "default.a"},
      {"apiVersion: projectcalico.org/v3\nkind: StagedGlobalNetworkPolicy\nmetadata: {name: a}\n"
       "spec: {selector: all()}\n",
       "default.a"},
      {"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: sec.a}\n"
       "spec: {tier: sec, selector: all()}\n",
       "sec.a"},
      {"apiVersion: projectcalico.org/v3\nkind: StagedKubernetesNetworkPolicy\nmetadata: {name: a, "
       "namespace: n}\n"
       "spec: {podSelector: {}}\n",
       "a"},
  };
  for (const Case& c : cases) {
    INFO(c.document);
    auto cr = toCustomResource(c.document, "doc");
    REQUIRE(cr);
    CHECK((*cr)["metadata"]["name"] == c.crName);
  }
}

TEST_CASE("custom resources as a Calico cluster has them read back field for field", "[calico-layout]") {
  // As kubectl get -o json shows them on a Calico cluster (kdd): server fields, Calico's annotation.
  const Json policy = Json::parse(R"j({
    "apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkPolicy",
    "metadata": {
      "name": "default.allow-dns", "uid": "6b1c2c64-0d5e-4d2c-9c1e-4d0b1a2c3d4e", "resourceVersion": "81234",
      "generation": 1, "creationTimestamp": "2024-03-01T10:00:00Z",
      "labels": {"projectcalico.org/tier": "default"},
      "annotations": {"projectcalico.org/metadata": "{\"creationTimestamp\":\"2024-03-01T09:59:59Z\"}",
                      "owner": "net-team"}},
    "spec": {"tier": "default", "order": 100, "selector": "all()", "types": ["Egress"],
             "egress": [{"action": "Allow", "protocol": "UDP", "destination": {"ports": [53]}}]}})j");
  auto doc = fromCustomResource(policy, "gnp");
  INFO((doc ? *doc : doc.error().toString()));
  REQUIRE(doc);
  auto resource = decodeOne(*doc);
  const auto& gnp = std::get<model::GlobalNetworkPolicy>(resource);
  CHECK(gnp.metadata.name == "allow-dns");
  CHECK(gnp.metadata.uid == "6b1c2c64-0d5e-4d2c-9c1e-4d0b1a2c3d4e");
  CHECK(gnp.metadata.resourceVersion.empty());
  CHECK(gnp.metadata.creationTimestamp == "2024-03-01T09:59:59Z");  // the annotation's, as Calico
  CHECK(gnp.metadata.labels == model::Labels{{"projectcalico.org/tier", "default"}});
  CHECK(gnp.metadata.annotations == model::Labels{{"owner", "net-team"}});
  CHECK(gnp.spec.tier == "default");
  REQUIRE(gnp.spec.order.has_value());
  CHECK(*gnp.spec.order == 100);
  CHECK(gnp.spec.selector == "all()");
  REQUIRE(gnp.spec.egress.size() == 1);
  CHECK(gnp.spec.ingress.empty());

  // An IPAM block as calico-ipam writes it: snake_case attributes, null allocations, no annotation.
  const Json block = Json::parse(R"({
    "apiVersion": "crd.projectcalico.org/v1", "kind": "IPAMBlock",
    "metadata": {"name": "10-244-1-0-30", "uid": "b1", "resourceVersion": "77",
                 "creationTimestamp": "2024-03-01T10:00:00Z"},
    "spec": {"cidr": "10.244.1.0/30", "affinity": "host:node-1", "strictAffinity": false,
             "allocations": [0, 1, null, null], "unallocated": [2, 3],
             "attributes": [{"handle_id": "ipip-tunnel-addr-node-1", "secondary": {"node": "node-1",
                             "type": "ipipTunnelAddress"}},
                            {"handle_id": "k8s-pod-network.0123", "secondary": {"namespace": "prod",
                             "node": "node-1", "pod": "web-0", "timestamp": "2024-03-01 10:01:00 +0000 UTC"}}],
             "deleted": false, "sequenceNumber": 5, "sequenceNumberForAllocation": {"0": 3, "1": 4}}})");
  auto blockDoc = fromCustomResource(block, "block");
  INFO((blockDoc ? *blockDoc : blockDoc.error().toString()));
  REQUIRE(blockDoc);
  auto blockResource = decodeOne(*blockDoc);
  const auto& b = std::get<model::IPAMBlock>(blockResource);
  CHECK(b.metadata.name == "10-244-1-0-30");
  CHECK(b.metadata.creationTimestamp == "2024-03-01T10:00:00Z");  // no annotation: the CR's
  CHECK(b.spec.cidr == "10.244.1.0/30");
  CHECK(b.spec.affinity == std::optional<std::string>("host:node-1"));
  CHECK(b.spec.allocations == std::vector<std::optional<int>>{0, 1, std::nullopt, std::nullopt});
  CHECK(b.spec.unallocated == std::vector<int>{2, 3});
  REQUIRE(b.spec.attributes.size() == 2);
  CHECK(b.spec.attributes[1].handleID == std::optional<std::string>("k8s-pod-network.0123"));
  CHECK(b.spec.attributes[1].secondary.at("pod") == "web-0");
  CHECK(b.spec.sequenceNumber == 5);
  CHECK(b.spec.sequenceNumberForAllocation == std::map<std::string, uint64_t>{{"0", 3}, {"1", 4}});
  // And written back, the spec is the same JSON.
  auto again = toCustomResource(*blockDoc, "block");
  REQUIRE(again);
  CHECK((*again)["spec"] == block["spec"]);

  // The newer unprefixed form of a default-tier policy reads the same.
  Json unprefixed = policy;
  unprefixed["metadata"]["name"] = "allow-dns";
  auto doc2 = fromCustomResource(unprefixed, "gnp");
  REQUIRE(doc2);
  CHECK(*doc2 == *doc);
}

TEST_CASE("a custom resource that cannot be read is an error naming where and what", "[calico-layout]") {
  const Json good = Json::parse(R"({"apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkSet",
    "metadata": {"name": "s"}, "spec": {"nets": ["192.0.2.0/24"]}})");
  REQUIRE(fromCustomResource(good, "cr"));
  struct Case {
    const char* name;
    std::function<void(Json&)> damage;
    const char* field;
    const char* what;
  };
  const Case cases[] = {
      {"not an object", [](Json& j) { j = Json::array(); }, "", "not a JSON object"},
      {"unknown kind", [](Json& j) { j["kind"] = "Profile"; }, "kind", "not a Calico kind"},
      {"wrong group", [](Json& j) { j["apiVersion"] = "projectcalico.org/v3"; }, "apiVersion", "expected"},
      {"no name", [](Json& j) { j["metadata"].erase("name"); }, "metadata.name", "missing"},
      {"annotation not JSON",
       [](Json& j) { j["metadata"]["annotations"]["projectcalico.org/metadata"] = "{oops"; },
       "metadata.annotations.projectcalico.org/metadata", "not a JSON object"},
      {"annotation not a string",
       [](Json& j) { j["metadata"]["annotations"]["projectcalico.org/metadata"] = 3; },
       "metadata.annotations.projectcalico.org/metadata", "not a string"},
      {"bad spec", [](Json& j) { j["spec"]["nets"] = Json::array({"not-a-cidr"}); }, "spec.nets[0]", ""},
      {"unknown spec field", [](Json& j) { j["spec"]["bogus"] = 1; }, "spec.bogus", ""},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    Json damaged = good;
    c.damage(damaged);
    auto result = fromCustomResource(damaged, "cr");
    REQUIRE(!result);
    INFO(result.error().toString());
    CHECK(result.error().where.starts_with("cr"));
    CHECK(result.error().field == c.field);
    CHECK(result.error().what.find(c.what) != std::string::npos);
  }

  // A Kubernetes kind is no Calico resource.
  auto pod = toCustomResource("apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n", "doc");
  REQUIRE(!pod);
  CHECK(pod.error().field == "kind");
  // Nor does a WorkloadEndpoint have a custom resource: Pods are its storage.
  auto wep = toCustomResource(
      "apiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\n"
      "metadata: {name: n1-k8s-web-eth0, namespace: prod}\n"
      "spec: {node: n1, orchestrator: k8s, pod: web, endpoint: eth0, interfaceName: cali0123456789a}\n",
      "doc");
  REQUIRE(!wep);
  CHECK(wep.error().what.find("not stored as a custom resource") != std::string::npos);
}
