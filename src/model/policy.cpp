// policy.cpp — field descriptions of the policy kinds (GlobalNetworkPolicy, NetworkPolicy,
// Tier) and their rules, in the order of Calico's Go structs.
#include "fixed_values.hpp"
#include "kinds_internal.hpp"

namespace tartan::model {

template <class V>
void describe(V& v, ICMPFields& s) {
  v.field("type", s.type);
  v.field("code", s.code);
}

template <class V>
void describe(V& v, ServiceMatch& s) {
  v.field("name", s.name);
  v.field("namespace", s.namespaceName);
}

template <class V>
void describe(V& v, ServiceAccountMatch& s) {
  v.field("names", s.names);
  v.field("selector", s.selector);
}

template <class V>
void describe(V& v, EntityRule& s) {
  v.field("nets", s.nets);
  v.field("selector", s.selector);
  v.field("namespaceSelector", s.namespaceSelector);
  v.field("services", s.services);
  v.field("ports", s.ports);
  v.field("notNets", s.notNets);
  v.field("notSelector", s.notSelector);
  v.field("notPorts", s.notPorts);
  v.field("serviceAccounts", s.serviceAccounts);
}

template <class V>
void describe(V& v, HTTPPath& s) {
  v.field("exact", s.exact);
  v.field("prefix", s.prefix);
}

template <class V>
void describe(V& v, HTTPMatch& s) {
  v.field("methods", s.methods);
  v.field("paths", s.paths);
}

template <class V>
void describe(V& v, RuleMetadata& s) {
  v.field("annotations", s.annotations);
}

template <class V>
void describe(V& v, Rule& s) {
  v.field("action", s.action, Need::kRequired, kRuleActions);
  v.field("ipVersion", s.ipVersion);
  v.field("protocol", s.protocol);
  v.field("icmp", s.icmp);
  v.field("notProtocol", s.notProtocol);
  v.field("notICMP", s.notICMP);
  v.field("source", s.source);  // omitzero: left out when it matches everything
  v.field("destination", s.destination);
  v.field("http", s.http);
  v.field("metadata", s.metadata);
}

template <class V>
void describe(V& v, GlobalNetworkPolicySpec& s) {
  v.field("tier", s.tier);
  v.field("order", s.order);
  v.field("ingress", s.ingress);
  v.field("egress", s.egress);
  v.field("selector", s.selector);
  v.field("types", s.types, Need::kOptional, kPolicyTypes);
  v.field("doNotTrack", s.doNotTrack);
  v.field("preDNAT", s.preDNAT);
  v.field("applyOnForward", s.applyOnForward);
  v.field("serviceAccountSelector", s.serviceAccountSelector);
  v.field("namespaceSelector", s.namespaceSelector);
  v.field("performanceHints", s.performanceHints, Need::kOptional, kPerformanceHints);
}

template <class V>
void describe(V& v, NetworkPolicySpec& s) {
  v.field("tier", s.tier);
  v.field("order", s.order);
  v.field("ingress", s.ingress);
  v.field("egress", s.egress);
  v.field("selector", s.selector);
  v.field("types", s.types, Need::kOptional, kPolicyTypes);
  v.field("serviceAccountSelector", s.serviceAccountSelector);
  v.field("performanceHints", s.performanceHints, Need::kOptional, kPerformanceHints);
}

template <class V>
void describe(V& v, TierSpec& s) {
  v.field("order", s.order);
  v.field("defaultAction", s.defaultAction, Need::kOptional, kTierDefaultActions);
}

template <class V, class R>
void describeResource(V& v, R& s) {
  v.typeMeta(R::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
}

template <class V>
void describe(V& v, GlobalNetworkPolicy& s) {
  describeResource(v, s);
}
template <class V>
void describe(V& v, NetworkPolicy& s) {
  describeResource(v, s);
}
template <class V>
void describe(V& v, Tier& s) {
  describeResource(v, s);
}

// A staged policy's spec is its policy's fields with stagedAction first, in one map.
template <class V>
void describe(V& v, StagedGlobalNetworkPolicySpec& s) {
  v.field("stagedAction", s.stagedAction, Need::kOptional, kStagedActions);
  describe(v, s.policy);
}
template <class V>
void describe(V& v, StagedNetworkPolicySpec& s) {
  v.field("stagedAction", s.stagedAction, Need::kOptional, kStagedActions);
  describe(v, s.policy);
}
template <class V>
void describe(V& v, StagedGlobalNetworkPolicy& s) {
  describeResource(v, s);
}
template <class V>
void describe(V& v, StagedNetworkPolicy& s) {
  describeResource(v, s);
}

template <class V>
void describe(V& v, ClusterInformationSpec& s) {
  v.field("clusterGUID", s.clusterGUID);
  v.field("clusterType", s.clusterType);
  v.field("calicoVersion", s.calicoVersion);
  v.field("datastoreReady", s.datastoreReady);
  v.field("variant", s.variant);
}
template <class V>
void describe(V& v, ClusterInformation& s) {
  describeResource(v, s);
}

TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(GlobalNetworkPolicy)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(NetworkPolicy)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(Tier)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(StagedGlobalNetworkPolicy)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(StagedNetworkPolicy)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(ClusterInformation)

}  // namespace tartan::model
