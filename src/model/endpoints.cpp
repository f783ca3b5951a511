// endpoints.cpp — field descriptions of HostEndpoint and WorkloadEndpoint.
#include "kinds_internal.hpp"

namespace tartan::model {

template <class V>
void describe(V& v, EndpointPort& s) {
  v.field("name", s.name, Need::kAlways);
  v.field("protocol", s.protocol, Need::kAlways);
  v.field("port", s.port, Need::kAlways);
}

template <class V>
void describe(V& v, HostEndpointSpec& s) {
  v.field("node", s.node);
  v.field("interfaceName", s.interfaceName);
  v.field("expectedIPs", s.expectedIPs);
  v.field("profiles", s.profiles);
  v.field("ports", s.ports);
}

template <class V>
void describe(V& v, WorkloadEndpointPort& s) {
  v.field("name", s.name, Need::kAlways);
  v.field("protocol", s.protocol, Need::kAlways);
  v.field("port", s.port, Need::kAlways);
  v.field("hostPort", s.hostPort, Need::kAlways);
  v.field("hostIP", s.hostIP, Need::kAlways);
}

template <class V>
void describe(V& v, IPNAT& s) {
  v.field("internalIP", s.internalIP, Need::kAlways);
  v.field("externalIP", s.externalIP, Need::kAlways);
  v.field("source", s.source, Need::kAlways);
}

template <class V>
void describe(V& v, WorkloadEndpointSpec& s) {
  v.field("orchestrator", s.orchestrator);
  v.field("workload", s.workload);
  v.field("node", s.node);
  v.field("containerID", s.containerID);
  v.field("pod", s.pod);
  v.field("endpoint", s.endpoint);
  v.field("serviceAccountName", s.serviceAccountName);
  v.field("ipNetworks", s.ipNetworks);
  v.field("ipNATs", s.ipNATs);
  v.field("ipv4Gateway", s.ipv4Gateway);
  v.field("ipv6Gateway", s.ipv6Gateway);
  v.field("profiles", s.profiles);
  v.field("interfaceName", s.interfaceName);
  v.field("mac", s.mac);
  v.field("ports", s.ports);
  v.field("allowSpoofedSourcePrefixes", s.allowSpoofedSourcePrefixes);
}

template <class V, class R>
void describeEndpoint(V& v, R& s) {
  v.typeMeta(R::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
}

template <class V>
void describe(V& v, HostEndpoint& s) {
  describeEndpoint(v, s);
}
template <class V>
void describe(V& v, WorkloadEndpoint& s) {
  describeEndpoint(v, s);
}

TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(HostEndpoint)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(WorkloadEndpoint)

}  // namespace tartan::model
