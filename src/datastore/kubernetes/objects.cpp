// objects.cpp — served objects to stored resources: custom resources, Kubernetes objects, Pods as
// WorkloadEndpoints, Kubernetes Nodes as Calico Nodes; and a Calico Node written back.
#include "objects.hpp"

#include "tartan/datastore/kubernetes_datastore.hpp"
#include "tartan/model/model.hpp"

#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <cstdio>

namespace tartan::datastore::kubernetes {

namespace {

using S = calico::KubernetesStorage;

// The v3 metadata fields of an object that the model keeps (resourceVersion is the revision).
constexpr std::array<std::string_view, 10> kMetadataFields = {
    "name",   "generateName", "namespace",      "uid", "generation", "creationTimestamp", "deletionTimestamp",
    "labels", "annotations",  "ownerReferences"};

// Calico's Node fields kept as annotations of the Kubernetes Node, by their spec path.
struct NodeAnnotation {
  std::string_view annotation;
  std::string_view section;  // "bgp" or "" for spec itself
  std::string_view field;
};
constexpr std::array<NodeAnnotation, 9> kNodeAnnotations = {{
    {"projectcalico.org/IPv4Address", "bgp", "ipv4Address"},
    {"projectcalico.org/IPv6Address", "bgp", "ipv6Address"},
    {"projectcalico.org/ASNumber", "bgp", "asNumber"},
    {"projectcalico.org/RouteReflectorClusterID", "bgp", "routeReflectorClusterID"},
    {"projectcalico.org/IPv4IPIPTunnelAddr", "bgp", "ipv4IPIPTunnelAddr"},
    {"projectcalico.org/IPv4VXLANTunnelAddr", "", "ipv4VXLANTunnelAddr"},
    {"projectcalico.org/VXLANTunnelMACAddr", "", "vxlanTunnelMACAddr"},
    {"projectcalico.org/IPv6VXLANTunnelAddr", "", "ipv6VXLANTunnelAddr"},
    {"projectcalico.org/VXLANTunnelMACAddrV6", "", "vxlanTunnelMACAddrV6"},
}};

std::string where(const KindLayout& layout, const Json& object) {
  const Json meta = object.value("metadata", Json::object());
  std::string ns = meta.value("namespace", "");
  return std::string(layout.plural) + "/" + (ns.empty() ? "" : ns + "/") + meta.value("name", "");
}

std::string str(const Json& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const Json& field(const Json& object, std::string_view key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// The metadata the model keeps of a served object.
Json modelMetadata(const Json& meta) {
  Json out = Json::object();
  for (std::string_view f : kMetadataFields) {
    auto it = meta.find(f);
    if (it != meta.end() && !it->is_null()) out[std::string(f)] = *it;
  }
  if (auto fin = meta.find("finalizers"); fin != meta.end() && !fin->is_null()) out["finalizers"] = *fin;
  return out;
}

Result<std::string> decodeToDocument(const Json& object, std::string_view where) {
  auto decoded = model::decode(object.dump(), where);
  if (!decoded.ok()) return decoded.errors.front();
  if (decoded.resources.size() != 1) return makeError(std::string(where), "", "is not exactly one resource");
  return Result<std::string>(boost::system::in_place_value, model::encodeYaml(decoded.resources.front()));
}

// A Kubernetes object as the model reads it: apiVersion, kind, the metadata it keeps, spec and
// (for the kinds that have one) status.
Json kubernetesDocument(const KindLayout& layout, const Json& object) {
  Json out = Json::object();
  out["apiVersion"] = layout.group.empty() ? std::string(layout.version)
                                           : std::string(layout.group) + "/" + std::string(layout.version);
  out["kind"] = layout.v3Kind;
  out["metadata"] = modelMetadata(field(object, "metadata"));
  if (layout.kind == model::Kind::kKubernetesEndpointSlice) {  // no spec: its fields are at the top
    for (const char* part : {"addressType", "endpoints", "ports"}) {
      if (auto it = object.find(part); it != object.end() && !it->is_null()) out[part] = *it;
    }
    return out;
  }
  for (const char* part : {"spec", "status", "secrets", "automountServiceAccountToken", "imagePullSecrets"}) {
    if (layout.kind == model::Kind::kKubernetesNetworkPolicy && std::string_view(part) != "spec") continue;
    if (auto it = object.find(part); it != object.end() && !it->is_null()) out[part] = *it;
  }
  return out;
}

// A pod's addresses as Calico finds them: status.podIPs, status.podIP, then the CNI plugin's
// annotations. None for a pod that has finished.
std::vector<std::string> podAddresses(const Json& pod) {
  std::vector<std::string> out;
  const Json& status = field(pod, "status");
  const std::string phase = str(status, "phase");
  if (phase == "Failed" || phase == "Succeeded") return out;
  for (const Json& ip : field(status, "podIPs").is_array() ? field(status, "podIPs") : Json::array()) {
    if (!str(ip, "ip").empty()) out.push_back(str(ip, "ip"));
  }
  if (out.empty() && !str(status, "podIP").empty()) out.push_back(str(status, "podIP"));
  if (out.empty()) {
    const Json& annotations = field(field(pod, "metadata"), "annotations");
    std::string ips = str(annotations, "cni.projectcalico.org/podIPs");
    if (ips.empty()) ips = str(annotations, "cni.projectcalico.org/podIP");
    size_t start = 0;
    while (start < ips.size()) {
      size_t comma = ips.find(',', start);
      std::string one = ips.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (auto slash = one.find('/'); slash != std::string::npos) one.resize(slash);
      while (!one.empty() && one.front() == ' ') one.erase(0, 1);
      while (!one.empty() && one.back() == ' ') one.pop_back();
      if (!one.empty()) out.push_back(one);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

// Calico's conversion of a Pod to its WorkloadEndpoint, as a v3 object; nullopt for a pod that has
// none (not scheduled, or on the host's network).
std::optional<Json> podToWorkloadEndpoint(const Json& pod) {
  const Json& meta = field(pod, "metadata");
  const Json& spec = field(pod, "spec");
  const std::string node = str(spec, "nodeName");
  if (node.empty() || field(spec, "hostNetwork") == true) return std::nullopt;
  const std::string ns = str(meta, "namespace");
  const std::string name = str(meta, "name");
  std::string sa = str(spec, "serviceAccountName");
  if (sa.empty()) sa = str(spec, "serviceAccount");

  Json labels = field(meta, "labels").is_object() ? field(meta, "labels") : Json::object();
  labels["projectcalico.org/namespace"] = ns;
  labels["projectcalico.org/orchestrator"] = "k8s";
  if (!sa.empty()) labels["projectcalico.org/serviceaccount"] = sa;

  Json v3meta = Json::object();
  v3meta["name"] = workloadEndpointName(node, name);
  v3meta["namespace"] = ns;
  if (!str(meta, "uid").empty()) v3meta["uid"] = str(meta, "uid");
  if (!str(meta, "creationTimestamp").empty()) v3meta["creationTimestamp"] = str(meta, "creationTimestamp");
  v3meta["labels"] = std::move(labels);

  Json wep = Json::object();
  wep["orchestrator"] = "k8s";
  wep["node"] = node;
  wep["pod"] = name;
  wep["endpoint"] = "eth0";
  const std::string containerID = str(field(meta, "annotations"), "cni.projectcalico.org/containerID");
  if (!containerID.empty()) wep["containerID"] = containerID;
  if (!sa.empty()) wep["serviceAccountName"] = sa;
  Json nets = Json::array();
  for (const std::string& ip : podAddresses(pod))
    nets.push_back(ip + (ip.find(':') == std::string::npos ? "/32" : "/128"));
  if (!nets.empty()) wep["ipNetworks"] = std::move(nets);
  Json profiles = Json::array({"kns." + ns});
  if (!sa.empty()) profiles.push_back("ksa." + ns + "." + sa);
  wep["profiles"] = std::move(profiles);
  wep["interfaceName"] = workloadInterfaceName("cali", ns, name);
  Json ports = Json::array();
  for (const Json& container :
       field(spec, "containers").is_array() ? field(spec, "containers") : Json::array()) {
    for (const Json& port :
         field(container, "ports").is_array() ? field(container, "ports") : Json::array()) {
      if (str(port, "name").empty() || !field(port, "containerPort").is_number_integer()) continue;
      Json p = Json::object();
      p["name"] = str(port, "name");
      p["protocol"] = str(port, "protocol").empty() ? "TCP" : str(port, "protocol");
      p["port"] = field(port, "containerPort");
      if (field(port, "hostPort").is_number_integer()) p["hostPort"] = field(port, "hostPort");
      if (!str(port, "hostIP").empty()) p["hostIP"] = str(port, "hostIP");
      ports.push_back(std::move(p));
    }
  }
  if (!ports.empty()) wep["ports"] = std::move(ports);

  Json out = Json::object();
  out["apiVersion"] = calico::kV3ApiVersion;
  out["kind"] = "WorkloadEndpoint";
  out["metadata"] = std::move(v3meta);
  out["spec"] = std::move(wep);
  return out;
}

// Calico's conversion of a Kubernetes Node to its Node, as a v3 object.
Json kubernetesNodeToCalico(const Json& node) {
  const Json& meta = field(node, "metadata");
  const Json& annotations = field(meta, "annotations");
  const std::string name = str(meta, "name");
  Json v3meta = Json::object();
  v3meta["name"] = name;
  if (!str(meta, "uid").empty()) v3meta["uid"] = str(meta, "uid");
  if (!str(meta, "creationTimestamp").empty()) v3meta["creationTimestamp"] = str(meta, "creationTimestamp");
  if (field(meta, "labels").is_object() && !field(meta, "labels").empty())
    v3meta["labels"] = field(meta, "labels");

  Json spec = Json::object();
  Json bgp = Json::object();
  for (const NodeAnnotation& a : kNodeAnnotations) {
    std::string value = str(annotations, a.annotation);
    if (value.empty()) continue;
    Json& target = a.section == "bgp" ? bgp : spec;
    if (a.field == "asNumber") {
      uint64_t number = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
      if (ec == std::errc() && end == value.data() + value.size()) {
        target["asNumber"] = number;
      } else {
        target["asNumber"] = value;  // "1.10" (asdot): the model reads it, or names the problem
      }
    } else {
      target[std::string(a.field)] = value;
    }
  }
  if (!bgp.empty()) spec["bgp"] = std::move(bgp);
  spec["orchRefs"] = Json::array({{{"nodeName", name}, {"orchestrator", "k8s"}}});
  Json addresses = Json::array();
  for (const char* family : {"projectcalico.org/IPv4Address", "projectcalico.org/IPv6Address"}) {
    std::string value = str(annotations, family);
    if (value.empty()) continue;
    addresses.push_back({{"address", value}, {"type", "CalicoNodeIP"}});
  }
  const Json& status = field(node, "status");
  for (const Json& a : field(status, "addresses").is_array() ? field(status, "addresses") : Json::array()) {
    const std::string type = str(a, "type");
    if (type == "InternalIP" || type == "ExternalIP")
      addresses.push_back({{"address", str(a, "address")}, {"type", type}});
  }
  if (!addresses.empty()) spec["addresses"] = std::move(addresses);

  Json out = Json::object();
  out["apiVersion"] = calico::kV3ApiVersion;
  out["kind"] = "Node";
  out["metadata"] = std::move(v3meta);
  out["spec"] = std::move(spec);
  const Json& podCIDRs = field(field(node, "spec"), "podCIDRs");
  if (podCIDRs.is_array() && !podCIDRs.empty()) out["status"] = {{"podCIDRs", podCIDRs}};
  return out;
}

}  // namespace

kube::ResourceType collectionOf(const KindLayout& layout) {
  switch (layout.storage) {
    case S::kCustomResource:
      return kube::resources::calico(std::string(layout.plural), std::string(layout.crdKind),
                                     layout.namespaced);
    case S::kDerivedFromPods:
      return kube::resources::pods();
    case S::kKubernetesNode:
      return kube::resources::nodes();
    case S::kKubernetesObject:
      break;
  }
  return kube::ResourceType{std::string(layout.group), std::string(layout.version),
                            std::string(layout.plural), layout.namespaced, std::string(layout.v3Kind)};
}

int64_t revisionOf(const Json& object) {
  const std::string rv = str(field(object, "metadata"), "resourceVersion");
  int64_t out = 0;
  auto [end, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), out);
  return ec == std::errc() && end == rv.data() + rv.size() ? out : 0;
}

Result<std::optional<KVPair>> toKVPair(const KindLayout& layout, const Json& object) {
  using Out = Result<std::optional<KVPair>>;
  const std::string w = where(layout, object);
  std::optional<Json> v3;
  switch (layout.storage) {
    case S::kCustomResource: {
      auto document = calico::fromCustomResource(object, w);
      if (!document) return document.error();
      const Json& meta = field(object, "metadata");
      Key key{std::string(layout.storageKind), layout.namespaced ? str(meta, "namespace") : std::string(),
              calico::keyName(layout, str(meta, "name"))};
      return Out(boost::system::in_place_value,
                 KVPair{std::move(key), std::move(*document), revisionOf(object)});
    }
    case S::kKubernetesObject: {
      auto document = decodeToDocument(kubernetesDocument(layout, object), w);
      if (!document) return document.error();
      const Json& meta = field(object, "metadata");
      Key key{std::string(layout.storageKind), layout.namespaced ? str(meta, "namespace") : std::string(),
              str(meta, "name")};
      return Out(boost::system::in_place_value,
                 KVPair{std::move(key), std::move(*document), revisionOf(object)});
    }
    case S::kDerivedFromPods:
      v3 = podToWorkloadEndpoint(object);
      if (!v3) return Out(boost::system::in_place_value, std::nullopt);
      break;
    case S::kKubernetesNode:
      v3 = kubernetesNodeToCalico(object);
      break;
  }
  auto document = calico::fromV3Object(*v3, w);
  if (!document) return document.error();
  const Json& meta = (*v3)["metadata"];
  Key key{std::string(layout.storageKind), layout.namespaced ? str(meta, "namespace") : std::string(),
          str(meta, "name")};
  return Out(boost::system::in_place_value, KVPair{std::move(key), std::move(*document), revisionOf(object)});
}

std::vector<std::string> storedNames(const KindLayout& layout, const Key& key) {
  if (layout.tiered) return calico::storedPolicyNames(key.name);
  return {key.name};
}

Result<Json> applyNodeDocument(const Json& node, std::string_view document, std::string_view where) {
  auto v3 = calico::toV3Object(document, where);
  if (!v3) return v3.error();
  if (v3->value("kind", "") != "Node") return makeError(std::string(where), "kind", "expected a Node");
  Json out = node;
  Json& meta = out["metadata"];
  Json& annotations = meta["annotations"];
  if (!annotations.is_object()) annotations = Json::object();
  const Json& spec = field(*v3, "spec");
  for (const NodeAnnotation& a : kNodeAnnotations) {
    const Json& section = a.section == "bgp" ? field(spec, "bgp") : spec;
    const Json& value = field(section, a.field);
    if (value.is_null() || (value.is_string() && value.get<std::string>().empty())) {
      annotations.erase(std::string(a.annotation));
    } else {
      annotations[std::string(a.annotation)] = value.is_string() ? value.get<std::string>() : value.dump();
    }
  }
  if (annotations.empty()) meta.erase("annotations");
  // Labels are added or changed, never removed: the kubelet's own labels are not the document's.
  const Json& labels = field(field(*v3, "metadata"), "labels");
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items()) meta["labels"][k] = v;
  }
  return Result<Json>(boost::system::in_place_value, std::move(out));
}

}  // namespace tartan::datastore::kubernetes

namespace tartan::datastore {

std::string workloadEndpointName(std::string_view node, std::string_view pod) {
  auto escape = [](std::string_view part) {
    std::string out;
    for (char c : part) {
      out += c;
      if (c == '-') out += '-';
    }
    return out;
  };
  return escape(node) + "-k8s-" + escape(pod) + "-eth0";
}

std::string workloadInterfaceName(std::string_view prefix, std::string_view namespaceName,
                                  std::string_view pod) {
  const std::string input = std::string(namespaceName) + "." + std::string(pod);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha1(), nullptr);
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned int i = 0; i < size; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return std::string(prefix) + std::string(hex, 11);
}

}  // namespace tartan::datastore
