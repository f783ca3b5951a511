// node.cpp — field description of Calico's Node.
#include "fixed_values.hpp"
#include "kinds_internal.hpp"

namespace tartan::model {

// Defined in bgp.cpp.
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, ASNumber& out);
Tree encodeValue(const ASNumber& value);
Tree schemaValue(const ASNumber& value);

template <class V>
void describe(V& v, NodeBGPSpec& s) {
  v.field("asNumber", s.asNumber);
  v.field("ipv4Address", s.ipv4Address);
  v.field("ipv6Address", s.ipv6Address);
  v.field("ipv4IPIPTunnelAddr", s.ipv4IPIPTunnelAddr);
  v.field("routeReflectorClusterID", s.routeReflectorClusterID);
}

template <class V>
void describe(V& v, OrchRef& s) {
  v.field("nodeName", s.nodeName);
  v.field("orchestrator", s.orchestrator, Need::kAlways);
}

template <class V>
void describe(V& v, NodeWireguardSpec& s) {
  v.field("interfaceIPv4Address", s.interfaceIPv4Address);
  v.field("interfaceIPv6Address", s.interfaceIPv6Address);
}

template <class V>
void describe(V& v, CalicoNodeAddress& s) {
  v.field("address", s.address, Need::kAlways);
  v.field("type", s.type, Need::kAlways, kNodeAddressTypes);
}

template <class V>
void describe(V& v, NodeSpec& s) {
  v.field("bgp", s.bgp);
  v.field("ipv4VXLANTunnelAddr", s.ipv4VXLANTunnelAddr);
  v.field("vxlanTunnelMACAddr", s.vxlanTunnelMACAddr);
  v.field("ipv6VXLANTunnelAddr", s.ipv6VXLANTunnelAddr);
  v.field("vxlanTunnelMACAddrV6", s.vxlanTunnelMACAddrV6);
  v.field("orchRefs", s.orchRefs);
  v.field("wireguard", s.wireguard);
  v.field("addresses", s.addresses);
}

template <class V>
void describe(V& v, NodeStatus& s) {
  v.field("wireguardPublicKey", s.wireguardPublicKey);
  v.field("wireguardPublicKeyV6", s.wireguardPublicKeyV6);
  v.field("podCIDRs", s.podCIDRs);
}

template <class V>
void describe(V& v, Node& s) {
  v.typeMeta(Node::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
  v.field("status", s.status);
}

TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(Node)

}  // namespace tartan::model
