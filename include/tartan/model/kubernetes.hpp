// tartan/model/kubernetes.hpp — the Kubernetes kinds networking reads: Namespace, Pod,
// ServiceAccount, Node and Service (core v1, only the fields networking needs; other fields of
// these five kinds are ignored, since Kubernetes, not the user, writes them),
// networking.k8s.io/v1 NetworkPolicy and discovery.k8s.io/v1 EndpointSlice (every field,
// strictly: an EndpointSlice's addresses and ports are what a rule naming its Service matches,
// so a misspelt field is refused rather than read as "no endpoints").
//
// Absent and empty lists differ in NetworkPolicy ("from: []" and no "from" both match all
// sources, but "ingress: []" and no "ingress" differ in what policyTypes defaults to), so those
// lists are std::optional and the difference survives a round trip.
//
// An EndpointSlice belongs to the Service its kubernetes.io/service-name label names, in the
// slice's namespace (kServiceNameLabel); a slice without the label belongs to no Service.
#pragma once

#include "tartan/model/kind.hpp"
#include "tartan/model/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tartan::model {

struct LabelSelectorRequirement {
  std::string key;
  std::string operator_;  // "operator": In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
  bool operator==(const LabelSelectorRequirement&) const = default;
};

// metav1.LabelSelector. An empty selector ({}) selects everything.
struct LabelSelector {
  Labels matchLabels;
  std::vector<LabelSelectorRequirement> matchExpressions;
  bool operator==(const LabelSelector&) const = default;
};

struct IPBlock {
  std::string cidr;
  std::vector<std::string> except;
  bool operator==(const IPBlock&) const = default;
};

struct NetworkPolicyPeer {
  std::optional<LabelSelector> podSelector;
  std::optional<LabelSelector> namespaceSelector;
  std::optional<IPBlock> ipBlock;
  bool operator==(const NetworkPolicyPeer&) const = default;
};

struct NetworkPolicyPort {
  std::optional<std::string> protocol;  // TCP (default), UDP, SCTP
  std::optional<IntOrString> port;      // a number or a named port
  std::optional<int32_t> endPort;       // only with a numeric port
  bool operator==(const NetworkPolicyPort&) const = default;
};

struct NetworkPolicyIngressRule {
  std::optional<std::vector<NetworkPolicyPort>> ports;
  std::optional<std::vector<NetworkPolicyPeer>> from;
  bool operator==(const NetworkPolicyIngressRule&) const = default;
};

struct NetworkPolicyEgressRule {
  std::optional<std::vector<NetworkPolicyPort>> ports;
  std::optional<std::vector<NetworkPolicyPeer>> to;
  bool operator==(const NetworkPolicyEgressRule&) const = default;
};

struct KubernetesNetworkPolicySpec {
  LabelSelector podSelector;
  std::optional<std::vector<NetworkPolicyIngressRule>> ingress;
  std::optional<std::vector<NetworkPolicyEgressRule>> egress;
  std::vector<std::string> policyTypes;  // Ingress, Egress
  bool operator==(const KubernetesNetworkPolicySpec&) const = default;
};

struct KubernetesNetworkPolicy {
  static constexpr Kind kKind = Kind::kKubernetesNetworkPolicy;
  ObjectMeta metadata;
  KubernetesNetworkPolicySpec spec;
  bool operator==(const KubernetesNetworkPolicy&) const = default;
};

// The policy types Kubernetes applies when policyTypes is empty: Ingress always, Egress when
// the policy has at least one egress rule.
std::vector<std::string> effectivePolicyTypes(const KubernetesNetworkPolicySpec& spec);

struct KubernetesNamespace {
  static constexpr Kind kKind = Kind::kKubernetesNamespace;
  ObjectMeta metadata;
  bool operator==(const KubernetesNamespace&) const = default;
};

struct KubernetesServiceAccount {
  static constexpr Kind kKind = Kind::kKubernetesServiceAccount;
  ObjectMeta metadata;
  bool operator==(const KubernetesServiceAccount&) const = default;
};

struct ContainerPort {
  std::string name;
  int32_t containerPort = 0;
  std::string protocol;  // TCP when empty
  int32_t hostPort = 0;
  std::string hostIP;
  bool operator==(const ContainerPort&) const = default;
};

struct Container {
  std::string name;
  std::vector<ContainerPort> ports;
  bool operator==(const Container&) const = default;
};

struct PodSpec {
  std::string nodeName;
  std::string serviceAccountName;
  bool hostNetwork = false;
  std::vector<Container> containers;
  bool operator==(const PodSpec&) const = default;
};

struct PodIP {
  std::string ip;
  bool operator==(const PodIP&) const = default;
};

struct PodStatus {
  std::string phase;
  std::string podIP;
  std::vector<PodIP> podIPs;
  bool operator==(const PodStatus&) const = default;
};

struct KubernetesPod {
  static constexpr Kind kKind = Kind::kKubernetesPod;
  ObjectMeta metadata;
  PodSpec spec;
  PodStatus status;
  bool operator==(const KubernetesPod&) const = default;
};

struct KubernetesNodeSpec {
  std::string podCIDR;
  std::vector<std::string> podCIDRs;
  bool operator==(const KubernetesNodeSpec&) const = default;
};

struct NodeAddress {
  std::string type;  // InternalIP, ExternalIP, Hostname ...
  std::string address;
  bool operator==(const NodeAddress&) const = default;
};

struct KubernetesNodeStatus {
  std::vector<NodeAddress> addresses;
  bool operator==(const KubernetesNodeStatus&) const = default;
};

struct KubernetesNode {
  static constexpr Kind kKind = Kind::kKubernetesNode;
  ObjectMeta metadata;
  KubernetesNodeSpec spec;
  KubernetesNodeStatus status;
  bool operator==(const KubernetesNode&) const = default;
};

// ---- Service (core v1) and EndpointSlice (discovery.k8s.io/v1) ----

struct ServicePort {
  std::string name;
  std::string protocol;  // TCP (the default), UDP or SCTP
  std::optional<std::string> appProtocol;
  int32_t port = 0;
  std::optional<IntOrString> targetPort;
  int32_t nodePort = 0;
  bool operator==(const ServicePort&) const = default;
};

struct ServiceSpec {
  std::vector<ServicePort> ports;
  Labels selector;
  std::string clusterIP;  // an address, "None" (headless) or "" (not yet allocated)
  std::vector<std::string> clusterIPs;
  std::string type;  // ClusterIP (the default), NodePort, LoadBalancer, ExternalName
  std::vector<std::string> externalIPs;
  std::string loadBalancerIP;
  std::string externalName;
  std::string externalTrafficPolicy;  // Cluster, Local
  std::string internalTrafficPolicy;  // Cluster, Local
  std::vector<std::string> ipFamilies;
  std::string ipFamilyPolicy;
  bool operator==(const ServiceSpec&) const = default;
};

struct LoadBalancerIngress {
  std::string ip;
  std::string hostname;
  bool operator==(const LoadBalancerIngress&) const = default;
};

struct LoadBalancerStatus {
  std::vector<LoadBalancerIngress> ingress;
  bool operator==(const LoadBalancerStatus&) const = default;
};

struct ServiceStatus {
  LoadBalancerStatus loadBalancer;
  bool operator==(const ServiceStatus&) const = default;
};

struct KubernetesService {
  static constexpr Kind kKind = Kind::kKubernetesService;
  ObjectMeta metadata;
  ServiceSpec spec;
  ServiceStatus status;
  bool operator==(const KubernetesService&) const = default;
};

// The label that ties an EndpointSlice to its Service (discovery.k8s.io/v1 LabelServiceName).
inline constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";

struct EndpointConditions {
  std::optional<bool> ready;
  std::optional<bool> serving;
  std::optional<bool> terminating;
  bool operator==(const EndpointConditions&) const = default;
};

struct ObjectReference {
  std::string kind;
  std::string namespaceName;  // "namespace"
  std::string name;
  std::string uid;
  std::string apiVersion;
  std::string resourceVersion;
  std::string fieldPath;
  bool operator==(const ObjectReference&) const = default;
};

struct ForZone {
  std::string name;
  bool operator==(const ForZone&) const = default;
};

struct ForNode {
  std::string name;
  bool operator==(const ForNode&) const = default;
};

struct EndpointHints {
  std::vector<ForZone> forZones;
  std::vector<ForNode> forNodes;
  bool operator==(const EndpointHints&) const = default;
};

struct EndpointSliceEndpoint {
  std::vector<std::string> addresses;  // of the slice's addressType; Kubernetes uses the first
  EndpointConditions conditions;
  std::optional<std::string> hostname;
  std::optional<ObjectReference> targetRef;
  Labels deprecatedTopology;
  std::optional<std::string> nodeName;
  std::optional<std::string> zone;
  std::optional<EndpointHints> hints;
  bool operator==(const EndpointSliceEndpoint&) const = default;
};

struct EndpointSlicePort {
  std::optional<std::string> name;
  std::optional<std::string> protocol;  // TCP (the default), UDP or SCTP
  std::optional<int32_t> port;          // absent: "all ports", which a rule cannot match
  std::optional<std::string> appProtocol;
  bool operator==(const EndpointSlicePort&) const = default;
};

struct KubernetesEndpointSlice {
  static constexpr Kind kKind = Kind::kKubernetesEndpointSlice;
  ObjectMeta metadata;
  std::string addressType;  // IPv4, IPv6 or FQDN
  std::vector<EndpointSliceEndpoint> endpoints;
  std::vector<EndpointSlicePort> ports;
  bool operator==(const KubernetesEndpointSlice&) const = default;
};

}  // namespace tartan::model
