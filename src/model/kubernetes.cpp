// kubernetes.cpp — field descriptions of the Kubernetes kinds. NetworkPolicy and EndpointSlice
// are strict; the decoder is lenient (unknown fields ignored) for Namespace, Pod, ServiceAccount,
// Node and Service.
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

template <class V>
void describe(V& v, ServicePort& s) {
  v.field("name", s.name);
  v.field("protocol", s.protocol);
  v.field("appProtocol", s.appProtocol);
  v.field("port", s.port, Need::kRequired);
  v.field("targetPort", s.targetPort);
  v.field("nodePort", s.nodePort);
}

template <class V>
void describe(V& v, ServiceSpec& s) {
  v.field("ports", s.ports);
  v.field("selector", s.selector);
  v.field("clusterIP", s.clusterIP);
  v.field("clusterIPs", s.clusterIPs);
  v.field("type", s.type);
  v.field("externalIPs", s.externalIPs);
  v.field("loadBalancerIP", s.loadBalancerIP);
  v.field("externalName", s.externalName);
  v.field("externalTrafficPolicy", s.externalTrafficPolicy);
  v.field("ipFamilies", s.ipFamilies);
  v.field("ipFamilyPolicy", s.ipFamilyPolicy);
  v.field("internalTrafficPolicy", s.internalTrafficPolicy);
}

template <class V>
void describe(V& v, LoadBalancerIngress& s) {
  v.field("ip", s.ip);
  v.field("hostname", s.hostname);
}

template <class V>
void describe(V& v, LoadBalancerStatus& s) {
  v.field("ingress", s.ingress);
}

template <class V>
void describe(V& v, ServiceStatus& s) {
  v.field("loadBalancer", s.loadBalancer);
}

template <class V>
void describe(V& v, KubernetesService& s) {
  v.typeMeta(KubernetesService::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
  v.field("status", s.status);
}

template <class V>
void describe(V& v, EndpointConditions& s) {
  v.field("ready", s.ready);
  v.field("serving", s.serving);
  v.field("terminating", s.terminating);
}

template <class V>
void describe(V& v, ObjectReference& s) {
  v.field("kind", s.kind);
  v.field("namespace", s.namespaceName);
  v.field("name", s.name);
  v.field("uid", s.uid);
  v.field("apiVersion", s.apiVersion);
  v.field("resourceVersion", s.resourceVersion);
  v.field("fieldPath", s.fieldPath);
}

template <class V>
void describe(V& v, ForZone& s) {
  v.field("name", s.name, Need::kRequired);
}

template <class V>
void describe(V& v, ForNode& s) {
  v.field("name", s.name, Need::kRequired);
}

template <class V>
void describe(V& v, EndpointHints& s) {
  v.field("forZones", s.forZones);
  v.field("forNodes", s.forNodes);
}

template <class V>
void describe(V& v, EndpointSliceEndpoint& s) {
  v.field("addresses", s.addresses, Need::kRequired);
  v.field("conditions", s.conditions, Need::kAlways);
  v.field("hostname", s.hostname);
  v.field("targetRef", s.targetRef);
  v.field("deprecatedTopology", s.deprecatedTopology);
  v.field("nodeName", s.nodeName);
  v.field("zone", s.zone);
  v.field("hints", s.hints);
}

template <class V>
void describe(V& v, EndpointSlicePort& s) {
  v.field("name", s.name);
  v.field("protocol", s.protocol);
  v.field("port", s.port);
  v.field("appProtocol", s.appProtocol);
}

template <class V>
void describe(V& v, KubernetesEndpointSlice& s) {
  v.typeMeta(KubernetesEndpointSlice::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("addressType", s.addressType, Need::kRequired);
  v.field("endpoints", s.endpoints, Need::kAlways);
  v.field("ports", s.ports);
}

TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(KubernetesNetworkPolicy)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(StagedKubernetesNetworkPolicy)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(KubernetesNamespace)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(KubernetesServiceAccount)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(KubernetesPod)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(KubernetesNode)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(KubernetesService)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(KubernetesEndpointSlice)

std::vector<std::string> effectivePolicyTypes(const KubernetesNetworkPolicySpec& spec) {
  if (!spec.policyTypes.empty()) return spec.policyTypes;
  std::vector<std::string> types = {"Ingress"};
  if (spec.egress && !spec.egress->empty()) types.push_back("Egress");
  return types;
}

}  // namespace tartan::model
