// kubernetes.cpp — field descriptions of the Kubernetes kinds. NetworkPolicy is strict; the
// decoder is lenient (unknown fields ignored) for Namespace, Pod, ServiceAccount and Node.
#include "kinds_internal.hpp"

namespace tartan::model {

template <class V>
void describe(V& v, LabelSelectorRequirement& s) {
  v.field("key", s.key, Need::kRequired);
  v.field("operator", s.operator_, Need::kRequired);
  v.field("values", s.values);
}

template <class V>
void describe(V& v, LabelSelector& s) {
  v.field("matchLabels", s.matchLabels);
  v.field("matchExpressions", s.matchExpressions);
}

template <class V>
void describe(V& v, IPBlock& s) {
  v.field("cidr", s.cidr, Need::kRequired);
  v.field("except", s.except);
}

template <class V>
void describe(V& v, NetworkPolicyPeer& s) {
  v.field("podSelector", s.podSelector);
  v.field("namespaceSelector", s.namespaceSelector);
  v.field("ipBlock", s.ipBlock);
}

template <class V>
void describe(V& v, NetworkPolicyPort& s) {
  v.field("protocol", s.protocol);
  v.field("port", s.port);
  v.field("endPort", s.endPort);
}

template <class V>
void describe(V& v, NetworkPolicyIngressRule& s) {
  v.field("ports", s.ports);
  v.field("from", s.from);
}

template <class V>
void describe(V& v, NetworkPolicyEgressRule& s) {
  v.field("ports", s.ports);
  v.field("to", s.to);
}

template <class V>
void describe(V& v, KubernetesNetworkPolicySpec& s) {
  v.field("podSelector", s.podSelector, Need::kAlways);
  v.field("ingress", s.ingress);
  v.field("egress", s.egress);
  v.field("policyTypes", s.policyTypes);
}

template <class V>
void describe(V& v, ContainerPort& s) {
  v.field("name", s.name);
  v.field("hostPort", s.hostPort);
  v.field("containerPort", s.containerPort, Need::kAlways);
  v.field("protocol", s.protocol);
  v.field("hostIP", s.hostIP);
}

template <class V>
void describe(V& v, Container& s) {
  v.field("name", s.name, Need::kAlways);
  v.field("ports", s.ports);
}

template <class V>
void describe(V& v, PodSpec& s) {
  v.field("containers", s.containers, Need::kAlways);
  v.field("serviceAccountName", s.serviceAccountName);
  v.field("nodeName", s.nodeName);
  v.field("hostNetwork", s.hostNetwork);
}

template <class V>
void describe(V& v, PodIP& s) {
  v.field("ip", s.ip);
}

template <class V>
void describe(V& v, PodStatus& s) {
  v.field("phase", s.phase);
  v.field("podIP", s.podIP);
  v.field("podIPs", s.podIPs);
}

template <class V>
void describe(V& v, KubernetesNodeSpec& s) {
  v.field("podCIDR", s.podCIDR);
  v.field("podCIDRs", s.podCIDRs);
}

template <class V>
void describe(V& v, NodeAddress& s) {
  v.field("type", s.type, Need::kAlways);
  v.field("address", s.address, Need::kAlways);
}

template <class V>
void describe(V& v, KubernetesNodeStatus& s) {
  v.field("addresses", s.addresses);
}

template <class V>
void describe(V& v, KubernetesNetworkPolicy& s) {
  v.typeMeta(KubernetesNetworkPolicy::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
}

template <class V>
void describe(V& v, KubernetesNamespace& s) {
  v.typeMeta(KubernetesNamespace::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
}

template <class V>
void describe(V& v, KubernetesServiceAccount& s) {
  v.typeMeta(KubernetesServiceAccount::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
}

template <class V>
void describe(V& v, KubernetesPod& s) {
  v.typeMeta(KubernetesPod::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
  v.field("status", s.status);
}

template <class V>
void describe(V& v, KubernetesNode& s) {
  v.typeMeta(KubernetesNode::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
  v.field("status", s.status);
}

template <class V>
void describe(V& v, StagedKubernetesNetworkPolicySpec& s) {
  v.field("stagedAction", s.stagedAction);
  describe(v, s.policy);
}

template <class V>
void describe(V& v, StagedKubernetesNetworkPolicy& s) {
  v.typeMeta(StagedKubernetesNetworkPolicy::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
}

TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(KubernetesNetworkPolicy)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(StagedKubernetesNetworkPolicy)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(KubernetesNamespace)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(KubernetesServiceAccount)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(KubernetesPod)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(KubernetesNode)

std::vector<std::string> effectivePolicyTypes(const KubernetesNetworkPolicySpec& spec) {
  if (!spec.policyTypes.empty()) return spec.policyTypes;
  std::vector<std::string> types = {"Ingress"};
  if (spec.egress && !spec.egress->empty()) types.push_back("Egress");
  return types;
}

}  // namespace tartan::model
