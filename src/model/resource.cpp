// resource.cpp — the kind table, the document loop of decode() and the encoders.
#include "kinds_internal.hpp"
#include "validate.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace tartan::model {

namespace {

constexpr std::string_view kTartanGroup = "tartan.dev/v1";
constexpr std::string_view kCalicoGroup = "projectcalico.org/v3";
constexpr std::string_view kCalicoCrdGroup = "crd.projectcalico.org/v1";

struct KindInfo {
  Kind kind;
  std::string_view name;
  std::string_view apiVersion;
  bool namespaced;
  std::array<std::string_view, 8> aliases;  // lower case; plural and short names
};

// In the order of the Kind enum.
constexpr std::array<KindInfo, 29> kKinds = {{
    {Kind::kGlobalNetworkPolicy,
     "GlobalNetworkPolicy",
     kTartanGroup,
     false,
     {"globalnetworkpolicies", "gnp", "gnps", "cgnp"}},
    {Kind::kNetworkPolicy,
     "NetworkPolicy",
     kTartanGroup,
     true,
     {"networkpolicies", "np", "nps", "cnp", "policy", "policies", "pol"}},
    {Kind::kTier, "Tier", kTartanGroup, false, {"tiers"}},
    {Kind::kGlobalNetworkSet, "GlobalNetworkSet", kTartanGroup, false, {"globalnetworksets", "gns", "gnss"}},
    {Kind::kNetworkSet, "NetworkSet", kTartanGroup, true, {"networksets", "netset", "netsets"}},
    {Kind::kHostEndpoint, "HostEndpoint", kTartanGroup, false, {"hostendpoints", "hep", "heps"}},
    {Kind::kWorkloadEndpoint, "WorkloadEndpoint", kTartanGroup, true, {"workloadendpoints", "wep", "weps"}},
    {Kind::kIPPool, "IPPool", kTartanGroup, false, {"ippools", "pool", "pools"}},
    {Kind::kBGPConfiguration,
     "BGPConfiguration",
     kTartanGroup,
     false,
     {"bgpconfigurations", "bgpconfig", "bgpconfigs"}},
    {Kind::kBGPPeer, "BGPPeer", kTartanGroup, false, {"bgppeers", "peer", "peers"}},
    {Kind::kBGPFilter, "BGPFilter", kTartanGroup, false, {"bgpfilters"}},
    {Kind::kNode, "Node", kTartanGroup, false, {"nodes", "no"}},
    {Kind::kAgentConfiguration,
     "AgentConfiguration",
     kTartanGroup,
     false,
     {"agentconfigurations", "agentconfig", "agentconfigs", "felixconfiguration", "felixconfigurations",
      "felixconfig", "felixconfigs"}},
    {Kind::kIPAMBlock, "IPAMBlock", kTartanGroup, false, {"ipamblocks"}},
    {Kind::kBlockAffinity, "BlockAffinity", kTartanGroup, false, {"blockaffinities"}},
    {Kind::kIPAMHandle, "IPAMHandle", kTartanGroup, false, {"ipamhandles"}},
    {Kind::kIPAMConfiguration,
     "IPAMConfiguration",
     kTartanGroup,
     false,
     {"ipamconfigurations", "ipamconfiguration", "ipamconfig", "ipamconfigs"}},
    {Kind::kIPReservation, "IPReservation", kTartanGroup, false, {"ipreservations"}},
    {Kind::kStagedGlobalNetworkPolicy,
     "StagedGlobalNetworkPolicy",
     kTartanGroup,
     false,
     {"stagedglobalnetworkpolicies", "sgnp", "sgnps"}},
    {Kind::kStagedNetworkPolicy,
     "StagedNetworkPolicy",
     kTartanGroup,
     true,
     {"stagednetworkpolicies", "snp", "snps"}},
    {Kind::kStagedKubernetesNetworkPolicy,
     "StagedKubernetesNetworkPolicy",
     kTartanGroup,
     true,
     {"stagedkubernetesnetworkpolicies", "sknp", "sknps"}},
    {Kind::kClusterInformation,
     "ClusterInformation",
     kTartanGroup,
     false,
     {"clusterinformations", "clusterinfo", "clusterinfos"}},
    {Kind::kKubernetesNamespace, "Namespace", "v1", false, {"namespaces", "ns"}},
    {Kind::kKubernetesPod, "Pod", "v1", true, {"pods", "po"}},
    {Kind::kKubernetesServiceAccount, "ServiceAccount", "v1", true, {"serviceaccounts", "sa"}},
    {Kind::kKubernetesNode,
     "Node",
     "v1",
     false,
     {"k8snode", "k8snodes", "kubernetesnode", "kubernetesnodes"}},
    {Kind::kKubernetesNetworkPolicy,
     "NetworkPolicy",
     "networking.k8s.io/v1",
     true,
     {"k8snetworkpolicy", "k8snetworkpolicies", "knp", "kubernetesnetworkpolicy", "kubernetesnetworkpolicies",
      "networkpolicies.networking.k8s.io"}},
    {Kind::kKubernetesService, "Service", "v1", true, {"services", "svc"}},
    {Kind::kKubernetesEndpointSlice,
     "EndpointSlice",
     "discovery.k8s.io/v1",
     true,
     {"endpointslices", "endpointslices.discovery.k8s.io"}},
}};

const KindInfo& info(Kind kind) { return kKinds[static_cast<size_t>(kind)]; }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The kind a document's apiVersion and kind name.
std::optional<Kind> resolveKind(std::string_view apiVersion, std::string_view kind) {
  if (apiVersion == kTartanGroup || apiVersion == kCalicoGroup) {
    if (apiVersion == kCalicoGroup && kind == "FelixConfiguration") {
      return Kind::kAgentConfiguration;
    }
    for (const KindInfo& k : kKinds) {
      if (k.apiVersion == kTartanGroup && k.name == kind) return k.kind;
    }
    return std::nullopt;
  }
  if (apiVersion == kCalicoCrdGroup) {
    if (kind == "IPAMBlock") return Kind::kIPAMBlock;
    if (kind == "BlockAffinity") return Kind::kBlockAffinity;
    if (kind == "IPAMHandle") return Kind::kIPAMHandle;
    if (kind == "IPAMConfig") return Kind::kIPAMConfiguration;
    if (kind == "IPReservation") return Kind::kIPReservation;
    return std::nullopt;
  }
  for (const KindInfo& k : kKinds) {
    if (k.apiVersion == apiVersion && k.name == kind) return k.kind;
  }
  return std::nullopt;
}

Resource emptyResource(Kind kind) {
  switch (kind) {
    case Kind::kGlobalNetworkPolicy:
      return GlobalNetworkPolicy{};
    case Kind::kNetworkPolicy:
      return NetworkPolicy{};
    case Kind::kTier:
      return Tier{};
    case Kind::kGlobalNetworkSet:
      return GlobalNetworkSet{};
    case Kind::kNetworkSet:
      return NetworkSet{};
    case Kind::kHostEndpoint:
      return HostEndpoint{};
    case Kind::kWorkloadEndpoint:
      return WorkloadEndpoint{};
    case Kind::kIPPool:
      return IPPool{};
    case Kind::kBGPConfiguration:
      return BGPConfiguration{};
    case Kind::kBGPPeer:
      return BGPPeer{};
    case Kind::kBGPFilter:
      return BGPFilter{};
    case Kind::kNode:
      return Node{};
    case Kind::kAgentConfiguration:
      return AgentConfiguration{};
    case Kind::kIPAMBlock:
      return IPAMBlock{};
    case Kind::kBlockAffinity:
      return BlockAffinity{};
    case Kind::kIPAMHandle:
      return IPAMHandle{};
    case Kind::kIPAMConfiguration:
      return IPAMConfiguration{};
    case Kind::kIPReservation:
      return IPReservation{};
    case Kind::kStagedGlobalNetworkPolicy:
      return StagedGlobalNetworkPolicy{};
    case Kind::kStagedNetworkPolicy:
      return StagedNetworkPolicy{};
    case Kind::kStagedKubernetesNetworkPolicy:
      return StagedKubernetesNetworkPolicy{};
    case Kind::kClusterInformation:
      return ClusterInformation{};
    case Kind::kKubernetesNamespace:
      return KubernetesNamespace{};
    case Kind::kKubernetesPod:
      return KubernetesPod{};
    case Kind::kKubernetesServiceAccount:
      return KubernetesServiceAccount{};
    case Kind::kKubernetesNode:
      return KubernetesNode{};
    case Kind::kKubernetesNetworkPolicy:
      return KubernetesNetworkPolicy{};
    case Kind::kKubernetesService:
      return KubernetesService{};
    case Kind::kKubernetesEndpointSlice:
      return KubernetesEndpointSlice{};
  }
  return GlobalNetworkPolicy{};
}

}  // namespace

bool isLenientKind(Kind kind) {
  return kind == Kind::kKubernetesNamespace || kind == Kind::kKubernetesPod ||
         kind == Kind::kKubernetesServiceAccount || kind == Kind::kKubernetesNode ||
         kind == Kind::kKubernetesService;
}

namespace {

class DocumentDecoder {
 public:
  DocumentDecoder(std::string_view source, DecodeResult& result) : source_(source), result_(result) {}

  // Decodes one resource (or the items of a List) found at `node`.
  void decodeNode(const YAML::Node& node, const std::string& path, bool allowList, int lineOffset) {
    Positions positions;
    std::vector<Error> errors;
    Decoder d(source_, errors, positions, lineOffset);
    if (!node.IsMap()) {
      d.error(node, path, "a resource must be a mapping with apiVersion and kind");
      flush(errors);
      return;
    }
    std::string apiVersionText, kindText;
    const YAML::Node apiVersionNode = node["apiVersion"];
    const YAML::Node kindNode = node["kind"];
    std::string prefix = path.empty() ? "" : path + ".";
    if (!apiVersionNode) {
      d.error(node, prefix + "apiVersion", "required field \"apiVersion\" is missing");
    } else {
      decodeValue(d, apiVersionNode, prefix + "apiVersion", apiVersionText);
    }
    if (!kindNode) {
      d.error(node, prefix + "kind", "required field \"kind\" is missing");
    } else {
      decodeValue(d, kindNode, prefix + "kind", kindText);
    }
    if (!errors.empty()) {
      flush(errors);
      return;
    }
    if (allowList && (kindText == "List" || (kindText.size() > 4 && kindText.ends_with("List")))) {
      decodeList(d, node, errors, lineOffset);
      flush(errors);
      return;
    }
    std::optional<Kind> kind = resolveKind(apiVersionText, kindText);
    if (!kind) {
      if (resolveKind(kTartanGroup, kindText) || kindText == "FelixConfiguration" ||
          resolveKind("v1", kindText) || resolveKind("networking.k8s.io/v1", kindText) ||
          resolveKind("discovery.k8s.io/v1", kindText)) {
        d.error(apiVersionNode, prefix + "apiVersion",
                "apiVersion \"" + apiVersionText + "\" does not serve kind \"" + kindText + "\"");
      } else {
        d.error(kindNode, prefix + "kind", "unknown kind \"" + kindText + "\"");
      }
      flush(errors);
      return;
    }
    Resource resource = emptyResource(*kind);
    d.setLenient(isLenientKind(*kind));
    std::visit([&](auto& r) { decodeResource(d, node, path, r); }, resource);
    if (errors.empty()) {
      applyDefaults(resource);
      Validator v(source_, &positions, path, errors);
      validateResource(v, resource);
    }
    if (errors.empty()) {
      result_.resources.push_back(std::move(resource));
      const auto name = positions.find(prefix + "metadata.name");
      if (name == positions.end()) {
        result_.locations.push_back(d.where(node));
      } else {
        result_.locations.push_back(source_ + ":" + std::to_string(name->second.line) + ":" +
                                    std::to_string(name->second.column));
      }
    }
    flush(errors);
  }

 private:
  void decodeList(Decoder& d, const YAML::Node& node, std::vector<Error>& errors, int lineOffset) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (key == "apiVersion" || key == "kind" || key == "metadata") continue;
      if (key != "items") d.error(it->first, key, "unknown field \"" + key + "\"");
    }
    const YAML::Node items = node["items"];
    if (!items || items.IsNull()) return;
    if (!items.IsSequence()) {
      d.error(items, "items", "expected a list");
      return;
    }
    flush(errors);
    for (size_t i = 0; i < items.size(); ++i) {
      decodeNode(items[i], "items[" + std::to_string(i) + "]", false, lineOffset);
    }
  }

  void flush(std::vector<Error>& errors) {
    for (Error& e : errors) result_.errors.push_back(std::move(e));
    errors.clear();
  }

  std::string source_;
  DecodeResult& result_;
};

}  // namespace

Kind kindOf(const Resource& resource) {
  return std::visit([](const auto& r) { return std::decay_t<decltype(r)>::kKind; }, resource);
}

std::string_view kindName(Kind kind) { return info(kind).name; }
std::string_view apiVersion(Kind kind) { return info(kind).apiVersion; }
bool isNamespaced(Kind kind) { return info(kind).namespaced; }

std::optional<Kind> lookupKind(std::string_view name) {
  std::string key = lower(name);
  // Kind names first, Tartan kinds before Kubernetes ones ("node" is the Tartan Node).
  for (const KindInfo& k : kKinds) {
    if (lower(k.name) == key) return k.kind;
  }
  for (const KindInfo& k : kKinds) {
    for (std::string_view alias : k.aliases) {
      if (!alias.empty() && alias == key) return k.kind;
    }
  }
  return std::nullopt;
}

ObjectMeta& metadata(Resource& resource) {
  return std::visit([](auto& r) -> ObjectMeta& { return r.metadata; }, resource);
}

const ObjectMeta& metadata(const Resource& resource) {
  return std::visit([](const auto& r) -> const ObjectMeta& { return r.metadata; }, resource);
}

void Encoder::typeMeta(Kind kind) {
  out_.fields.emplace_back("apiVersion", Tree::string(std::string(apiVersion(kind))));
  out_.fields.emplace_back("kind", Tree::string(std::string(kindName(kind))));
}

DecodeResult decode(std::string_view text, std::string_view source) {
  DecodeResult result;
  DocumentDecoder decoder(source, result);
  for (const DocumentText& document : splitDocuments(text)) {
    Result<YAML::Node> node = loadDocument(document, source);
    if (!node) {
      result.errors.push_back(node.error());
      continue;
    }
    if (node->IsNull()) continue;  // an empty document ("---" at the end)
    decoder.decodeNode(*node, "", true, document.firstLine);
  }
  if (!result.errors.empty()) {
    result.resources.clear();
    result.locations.clear();
  }
  return result;
}

std::string encodeYaml(const Resource& resource) {
  return writeYaml(std::visit([](const auto& r) { return encodeResource(r); }, resource));
}

std::string encodeYaml(const std::vector<Resource>& resources) {
  std::string out;
  for (size_t i = 0; i < resources.size(); ++i) {
    if (i > 0) out += "---\n";
    out += encodeYaml(resources[i]);
  }
  return out;
}

std::string encodeJson(const Resource& resource) {
  return writeJson(std::visit([](const auto& r) { return encodeResource(r); }, resource));
}

std::vector<Error> validate(const Resource& resource) {
  std::vector<Error> errors;
  Validator v("", nullptr, "", errors);
  validateResource(v, resource);
  return errors;
}

void applyDefaults(Resource& resource) {
  std::visit([](auto& r) { defaultKind(r); }, resource);
}

void validateResource(Validator& v, const Resource& resource) {
  std::visit([&](const auto& r) { validateKind(v, r); }, resource);
}

}  // namespace tartan::model
