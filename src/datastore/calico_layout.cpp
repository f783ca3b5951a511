// calico_layout.cpp — Calico's names and shapes for each kind, and the document conversions.
#include "tartan/datastore/calico_layout.hpp"

#include "tartan/model/model.hpp"

#include <array>
#include <cassert>

namespace tartan::datastore::calico {

namespace {

using model::Kind;
using S = KubernetesStorage;

constexpr std::string_view kCrd = kCrdGroup;

// In the order of model::Kind. Plurals are Calico's (its CRDs' and its etcd v3 key prefixes').
constexpr std::array<KindLayout, 29> kLayouts = {{
    {Kind::kGlobalNetworkPolicy, "GlobalNetworkPolicy", "GlobalNetworkPolicy", "GlobalNetworkPolicy", kCrd,
     "v1", "globalnetworkpolicies", false, true, S::kCustomResource},
    {Kind::kNetworkPolicy, "NetworkPolicy", "NetworkPolicy", "NetworkPolicy", kCrd, "v1", "networkpolicies",
     true, true, S::kCustomResource},
    {Kind::kTier, "Tier", "Tier", "Tier", kCrd, "v1", "tiers", false, false, S::kCustomResource},
    {Kind::kGlobalNetworkSet, "GlobalNetworkSet", "GlobalNetworkSet", "GlobalNetworkSet", kCrd, "v1",
     "globalnetworksets", false, false, S::kCustomResource},
    {Kind::kNetworkSet, "NetworkSet", "NetworkSet", "NetworkSet", kCrd, "v1", "networksets", true, false,
     S::kCustomResource},
    {Kind::kHostEndpoint, "HostEndpoint", "HostEndpoint", "HostEndpoint", kCrd, "v1", "hostendpoints", false,
     false, S::kCustomResource},
    {Kind::kWorkloadEndpoint, "WorkloadEndpoint", "WorkloadEndpoint", "", "", "v1", "workloadendpoints", true,
     false, S::kDerivedFromPods},
    {Kind::kIPPool, "IPPool", "IPPool", "IPPool", kCrd, "v1", "ippools", false, false, S::kCustomResource},
    {Kind::kBGPConfiguration, "BGPConfiguration", "BGPConfiguration", "BGPConfiguration", kCrd, "v1",
     "bgpconfigurations", false, false, S::kCustomResource},
    {Kind::kBGPPeer, "BGPPeer", "BGPPeer", "BGPPeer", kCrd, "v1", "bgppeers", false, false,
     S::kCustomResource},
    {Kind::kBGPFilter, "BGPFilter", "BGPFilter", "BGPFilter", kCrd, "v1", "bgpfilters", false, false,
     S::kCustomResource},
    {Kind::kNode, "Node", "Node", "", "", "v1", "nodes", false, false, S::kKubernetesNode},
    {Kind::kAgentConfiguration, "AgentConfiguration", "FelixConfiguration", "FelixConfiguration", kCrd, "v1",
     "felixconfigurations", false, false, S::kCustomResource},
    {Kind::kIPAMBlock, "IPAMBlock", "IPAMBlock", "IPAMBlock", kCrd, "v1", "ipamblocks", false, false,
     S::kCustomResource},
    {Kind::kBlockAffinity, "BlockAffinity", "BlockAffinity", "BlockAffinity", kCrd, "v1", "blockaffinities",
     false, false, S::kCustomResource},
    {Kind::kIPAMHandle, "IPAMHandle", "IPAMHandle", "IPAMHandle", kCrd, "v1", "ipamhandles", false, false,
     S::kCustomResource},
    {Kind::kIPAMConfiguration, "IPAMConfiguration", "IPAMConfiguration", "IPAMConfig", kCrd, "v1",
     "ipamconfigs", false, false, S::kCustomResource},
    {Kind::kIPReservation, "IPReservation", "IPReservation", "IPReservation", kCrd, "v1", "ipreservations",
     false, false, S::kCustomResource},
    {Kind::kStagedGlobalNetworkPolicy, "StagedGlobalNetworkPolicy", "StagedGlobalNetworkPolicy",
     "StagedGlobalNetworkPolicy", kCrd, "v1", "stagedglobalnetworkpolicies", false, true, S::kCustomResource},
    {Kind::kStagedNetworkPolicy, "StagedNetworkPolicy", "StagedNetworkPolicy", "StagedNetworkPolicy", kCrd,
     "v1", "stagednetworkpolicies", true, true, S::kCustomResource},
    {Kind::kStagedKubernetesNetworkPolicy, "StagedKubernetesNetworkPolicy", "StagedKubernetesNetworkPolicy",
     "StagedKubernetesNetworkPolicy", kCrd, "v1", "stagedkubernetesnetworkpolicies", true, false,
     S::kCustomResource},
    {Kind::kClusterInformation, "ClusterInformation", "ClusterInformation", "ClusterInformation", kCrd, "v1",
     "clusterinformations", false, false, S::kCustomResource},
    {Kind::kKubernetesNamespace, "KubernetesNamespace", "Namespace", "", "", "v1", "namespaces", false, false,
     S::kKubernetesObject},
    {Kind::kKubernetesPod, "KubernetesPod", "Pod", "", "", "v1", "pods", true, false, S::kKubernetesObject},
    {Kind::kKubernetesServiceAccount, "KubernetesServiceAccount", "ServiceAccount", "", "", "v1",
     "serviceaccounts", true, false, S::kKubernetesObject},
    {Kind::kKubernetesNode, "KubernetesNode", "Node", "", "", "v1", "nodes", false, false,
     S::kKubernetesObject},
    {Kind::kKubernetesNetworkPolicy, "KubernetesNetworkPolicy", "NetworkPolicy", "", "networking.k8s.io",
     "v1", "networkpolicies", true, false, S::kKubernetesObject},
    {Kind::kKubernetesService, "KubernetesService", "Service", "", "", "v1", "services", true, false,
     S::kKubernetesObject},
    {Kind::kKubernetesEndpointSlice, "KubernetesEndpointSlice", "EndpointSlice", "", "discovery.k8s.io", "v1",
     "endpointslices", true, false, S::kKubernetesObject},
}};

constexpr std::string_view kDefaultPrefix = "default.";

// The v3 metadata fields that the CR's own metadata carries (or that Calico leaves out of the
// annotation); everything else goes into the annotation, in the order of Go's ObjectMeta.
constexpr std::array<std::string_view, 6> kAnnotationFields = {
    "generateName", "generation", "creationTimestamp", "deletionTimestamp", "ownerReferences", "finalizers"};

// Decodes one document of a Calico kind with the model; the one resource or the first error.
Result<model::Resource> decodeOne(std::string_view text, std::string_view where) {
  auto decoded = model::decode(text, where);
  if (!decoded.ok()) return decoded.errors.front();
  if (decoded.resources.size() != 1) {
    return makeError(std::string(where), "",
                     "holds " + std::to_string(decoded.resources.size()) + " resources, expected one");
  }
  return std::move(decoded.resources.front());
}

struct V3 {
  Json object;
  const KindLayout* layout = nullptr;
};

// A document of a Calico kind as its v3 object, and the kind's layout.
Result<V3> decodeToV3(std::string_view document, std::string_view where) {
  auto resource = decodeOne(document, where);
  if (!resource) return resource.error();
  const KindLayout* found = layoutOf(model::kindOf(*resource));
  if (found == nullptr || found->storage == S::kKubernetesObject) {
    return makeError(std::string(where), "kind",
                     "a Kubernetes " + std::string(model::kindName(model::kindOf(*resource))) +
                         " is not a Calico resource");
  }
  const KindLayout& layout = *found;
  model::ObjectMeta& meta = model::metadata(*resource);
  meta.resourceVersion.clear();
  if (layout.tiered) meta.name = v3PolicyName(meta.name);
  Json object = Json::parse(model::encodeJson(*resource), nullptr, false);
  assert(object.is_object() && "the model's JSON encoding parses");
  object["apiVersion"] = kV3ApiVersion;
  object["kind"] = layout.v3Kind;
  return V3{std::move(object), &layout};
}

}  // namespace

std::span<const KindLayout> kinds() { return kLayouts; }

const KindLayout* layoutOf(model::Kind kind) {
  for (const KindLayout& layout : kLayouts) {
    if (layout.kind == kind) return &layout;
  }
  return nullptr;
}

const KindLayout* layoutByStorageKind(std::string_view storageKind) {
  for (const KindLayout& layout : kLayouts) {
    if (layout.storageKind == storageKind) return &layout;
  }
  return nullptr;
}

const KindLayout* layoutByCrdKind(std::string_view crdKind) {
  if (crdKind.empty()) return nullptr;
  for (const KindLayout& layout : kLayouts) {
    if (layout.crdKind == crdKind) return &layout;
  }
  return nullptr;
}

std::string backendPolicyName(std::string_view v3Name) {
  if (v3Name.find('.') != std::string_view::npos) return std::string(v3Name);
  return std::string(kDefaultPrefix) + std::string(v3Name);
}

std::string v3PolicyName(std::string_view backendName) {
  if (backendName.starts_with(kDefaultPrefix) && backendName.size() > kDefaultPrefix.size()) {
    return std::string(backendName.substr(kDefaultPrefix.size()));
  }
  return std::string(backendName);
}

std::vector<std::string> storedPolicyNames(std::string_view v3Name) {
  std::string name = v3PolicyName(v3Name);
  if (name.find('.') != std::string::npos) return {name};
  return {backendPolicyName(name), name};
}

std::string keyName(const KindLayout& layout, std::string_view storedName) {
  return layout.tiered ? v3PolicyName(storedName) : std::string(storedName);
}

std::string metadataAnnotation(const Json& metadata) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (std::string_view field : kAnnotationFields) {
    auto it = metadata.find(field);
    if (it != metadata.end() && !it->is_null()) {
      out[std::string(field)] = *it;
    } else if (field == "creationTimestamp") {
      out["creationTimestamp"] = nullptr;  // Go marshals a zero metav1.Time as null
    }
  }
  return out.dump();
}

Result<Json> toV3Object(std::string_view document, std::string_view where) {
  auto v3 = decodeToV3(document, where);
  if (!v3) return v3.error();
  return Result<Json>(boost::system::in_place_value, std::move(v3->object));
}

Result<std::string> fromV3Object(const Json& object, std::string_view where) {
  if (!object.is_object()) return makeError(std::string(where), "", "is not a JSON object");
  Json copy = object;
  if (auto md = copy.find("metadata"); md != copy.end() && md->is_object()) md->erase("resourceVersion");
  auto resource = decodeOne(copy.dump(), where);
  if (!resource) return resource.error();
  const KindLayout* layout = layoutOf(model::kindOf(*resource));
  if (layout == nullptr || layout->storage == S::kKubernetesObject) {
    return makeError(std::string(where), "kind",
                     "a Kubernetes " + std::string(model::kindName(model::kindOf(*resource))) +
                         " is not a Calico resource");
  }
  if (layout->tiered) {
    model::ObjectMeta& meta = model::metadata(*resource);
    meta.name = v3PolicyName(meta.name);
  }
  return Result<std::string>(boost::system::in_place_value, model::encodeYaml(*resource));
}

Result<Json> toCustomResource(std::string_view document, std::string_view where) {
  auto v3 = decodeToV3(document, where);
  if (!v3) return v3.error();
  const KindLayout* layout = v3->layout;
  if (layout->storage != S::kCustomResource) {
    return makeError(std::string(where), "kind",
                     std::string(layout->v3Kind) + " is not stored as a custom resource in Kubernetes");
  }
  const Json& meta = v3->object["metadata"];
  Json crMeta = Json::object();
  std::string name = meta.value("name", "");
  crMeta["name"] = layout->tiered ? backendPolicyName(name) : name;
  if (layout->namespaced) crMeta["namespace"] = meta.value("namespace", "");
  if (auto labels = meta.find("labels"); labels != meta.end() && !labels->empty()) crMeta["labels"] = *labels;
  Json annotations = Json::object();
  if (auto a = meta.find("annotations"); a != meta.end() && a->is_object()) annotations = *a;
  annotations[std::string(kMetadataAnnotation)] = metadataAnnotation(meta);
  crMeta["annotations"] = std::move(annotations);

  Json cr = Json::object();
  cr["apiVersion"] = kCrdApiVersion;
  cr["kind"] = layout->crdKind;
  cr["metadata"] = std::move(crMeta);
  cr["spec"] = v3->object.contains("spec") ? v3->object["spec"] : Json::object();
  return Result<Json>(boost::system::in_place_value, std::move(cr));
}

Result<std::string> fromCustomResource(const Json& object, std::string_view where) {
  const std::string w(where);
  if (!object.is_object()) return makeError(w, "", "is not a JSON object");
  auto kind = object.find("kind");
  if (kind == object.end() || !kind->is_string()) return makeError(w, "kind", "missing or not a string");
  const KindLayout* layout = layoutByCrdKind(kind->get<std::string>());
  if (layout == nullptr)
    return makeError(w, "kind", "\"" + kind->get<std::string>() + "\" is not a Calico kind");
  auto api = object.find("apiVersion");
  if (api != object.end() && (!api->is_string() || api->get<std::string>() != kCrdApiVersion)) {
    return makeError(w, "apiVersion", "expected " + std::string(kCrdApiVersion));
  }
  auto md = object.find("metadata");
  if (md == object.end() || !md->is_object()) return makeError(w, "metadata", "missing or not an object");
  auto nameIt = md->find("name");
  if (nameIt == md->end() || !nameIt->is_string() || nameIt->get<std::string>().empty()) {
    return makeError(w, "metadata.name", "missing or not a string");
  }

  Json meta = Json::object();
  // The annotation first: the CR's own fields below take precedence, as in Calico.
  Json annotations = Json::object();
  if (auto a = md->find("annotations"); a != md->end() && !a->is_null()) {
    if (!a->is_object()) return makeError(w, "metadata.annotations", "not an object");
    annotations = *a;
  }
  if (auto stored = annotations.find(kMetadataAnnotation); stored != annotations.end()) {
    const std::string field = "metadata.annotations." + std::string(kMetadataAnnotation);
    if (!stored->is_string()) return makeError(w, field, "not a string");
    Json parsed = Json::parse(stored->get<std::string>(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) return makeError(w, field, "not a JSON object");
    for (std::string_view f : kAnnotationFields) {
      auto it = parsed.find(f);
      if (it != parsed.end() && !it->is_null()) meta[std::string(f)] = *it;
    }
    annotations.erase(stored);
  }
  meta["name"] = keyName(*layout, nameIt->get<std::string>());
  if (layout->namespaced) meta["namespace"] = md->value("namespace", "");
  if (auto uid = md->find("uid"); uid != md->end() && uid->is_string()) meta["uid"] = *uid;
  if (!meta.contains("creationTimestamp")) {
    if (auto ts = md->find("creationTimestamp"); ts != md->end() && ts->is_string())
      meta["creationTimestamp"] = *ts;
  }
  if (auto labels = md->find("labels"); labels != md->end() && !labels->is_null() && !labels->empty()) {
    meta["labels"] = *labels;
  }
  if (!annotations.empty()) meta["annotations"] = std::move(annotations);

  Json v3 = Json::object();
  v3["apiVersion"] = kV3ApiVersion;
  v3["kind"] = layout->v3Kind;
  v3["metadata"] = std::move(meta);
  if (auto spec = object.find("spec"); spec != object.end() && !spec->is_null()) v3["spec"] = *spec;
  return fromV3Object(v3, where);
}

}  // namespace tartan::datastore::calico
