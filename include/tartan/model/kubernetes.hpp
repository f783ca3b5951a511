// tartan/model/kubernetes.hpp — the Kubernetes kinds networking reads: Namespace, Pod,
// ServiceAccount and Node (core v1, only the fields networking needs; other fields of these four
// kinds are ignored, since Kubernetes, not the user, writes them) and networking.k8s.io/v1
// NetworkPolicy (every field, strictly).
//
// Absent and empty lists differ in NetworkPolicy ("from: []" and no "from" both match all
// sources, but "ingress: []" and no "ingress" differ in what policyTypes defaults to), so those
// lists are std::optional and the difference survives a round trip.
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

}  // namespace tartan::model
