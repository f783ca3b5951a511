// bgp.cpp — field descriptions of BGPConfiguration, BGPPeer and BGPFilter, and the AS number.
#include "fixed_values.hpp"
#include "kinds_internal.hpp"

#include <charconv>

namespace tartan::model {

// numorstring.ASNumber accepts a number, or a string in asplain or asdot form (RFC 5396 §1).
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, ASNumber& out) {
  if (node.IsScalar() && node.Tag() != "!" && resolvePlain(node.Scalar()) == ScalarType::kInt) {
    decodeValue(d, node, path, out.value);
    return;
  }
  std::string text;
  decodeValue(d, node, path, text);
  if (!node.IsScalar()) return;
  auto parse = [](std::string_view s, uint64_t limit) -> std::optional<uint64_t> {
    uint64_t n = 0;
    if (s.empty() || s.size() > 10) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size() || n > limit) return std::nullopt;
    return n;
  };
  size_t dot = text.find('.');
  if (dot == std::string::npos) {
    if (auto n = parse(text, 0xffffffffULL)) {
      out.value = static_cast<uint32_t>(*n);
      return;
    }
  } else {
    auto high = parse(std::string_view(text).substr(0, dot), 0xffff);
    auto low = parse(std::string_view(text).substr(dot + 1), 0xffff);
    if (high && low) {
      out.value = static_cast<uint32_t>((*high << 16) | *low);
      return;
    }
  }
  d.error(node, path, "invalid AS number \"" + text + "\" (asplain 0-4294967295 or asdot A.B)");
}

Tree encodeValue(const ASNumber& value) { return encodeValue(value.value); }
// A number or an asplain/asdot string, as the decoder reads it.
Tree schemaValue(const ASNumber&) { return intOrStringSchema(); }

template <class V>
void describe(V& v, SecretKeySelector& s) {
  v.field("name", s.name);
  v.field("key", s.key, Need::kRequired);
  v.field("optional", s.optional);
}

template <class V>
void describe(V& v, BGPPassword& s) {
  v.field("secretKeyRef", s.secretKeyRef);
}

template <class V>
void describe(V& v, CIDRBlock& s) {
  v.field("cidr", s.cidr);
}

template <class V>
void describe(V& v, Community& s) {
  v.field("name", s.name);
  v.field("value", s.value);
}

template <class V>
void describe(V& v, PrefixAdvertisement& s) {
  v.field("cidr", s.cidr);
  v.field("communities", s.communities);
}

template <class V>
void describe(V& v, BGPConfigurationSpec& s) {
  v.field("logSeverityScreen", s.logSeverityScreen, Need::kOptional, kLogLevels);
  v.field("nodeToNodeMeshEnabled", s.nodeToNodeMeshEnabled);
  v.field("asNumber", s.asNumber);
  v.field("serviceLoadBalancerIPs", s.serviceLoadBalancerIPs);
  v.field("serviceExternalIPs", s.serviceExternalIPs);
  v.field("serviceClusterIPs", s.serviceClusterIPs);
  v.field("communities", s.communities);
  v.field("prefixAdvertisements", s.prefixAdvertisements);
  v.field("listenPort", s.listenPort);
  v.field("nodeMeshPassword", s.nodeMeshPassword);
  v.field("nodeMeshMaxRestartTime", s.nodeMeshMaxRestartTime);
  v.field("bindMode", s.bindMode, Need::kOptional, kBindModes);
  v.field("ignoredInterfaces", s.ignoredInterfaces);
  v.field("localWorkloadPeeringIPV4", s.localWorkloadPeeringIPV4);
  v.field("localWorkloadPeeringIPV6", s.localWorkloadPeeringIPV6);
  v.field("programClusterRoutes", s.programClusterRoutes, Need::kOptional, kEnabledDisabled);
}

template <class V>
void describe(V& v, BGPPeerSpec& s) {
  v.field("node", s.node);
  v.field("nodeSelector", s.nodeSelector);
  v.field("peerIP", s.peerIP);
  v.field("asNumber", s.asNumber);
  v.field("peerSelector", s.peerSelector);
  v.field("keepOriginalNextHop", s.keepOriginalNextHop);
  v.field("nextHopMode", s.nextHopMode, Need::kOptional, kNextHopModes);
  v.field("password", s.password);
  v.field("sourceAddress", s.sourceAddress, Need::kOptional, kSourceAddresses);
  v.field("failureDetectionMode", s.failureDetectionMode, Need::kOptional, kFailureDetectionModes);
  v.field("restartMode", s.restartMode, Need::kOptional, kRestartModes);
  v.field("maxRestartTime", s.maxRestartTime);
  v.field("birdGatewayMode", s.birdGatewayMode, Need::kOptional, kBirdGatewayModes);
  v.field("numAllowedLocalASNumbers", s.numAllowedLocalASNumbers);
  v.field("ttlSecurity", s.ttlSecurity);
  v.field("filters", s.filters);
  v.field("reachableBy", s.reachableBy);
  v.field("localWorkloadSelector", s.localWorkloadSelector);
  v.field("reversePeering", s.reversePeering, Need::kOptional, kReversePeeringModes);
  v.field("localASNumber", s.localASNumber);
  v.field("keepaliveTime", s.keepaliveTime);
}

template <class V>
void describe(V& v, BGPFilterPrefixLength& s) {
  v.field("min", s.min);
  v.field("max", s.max);
}

template <class V>
void describe(V& v, BGPFilterCommunityMatch& s) {
  v.field("values", s.values, Need::kRequired);
}

template <class V>
void describe(V& v, BGPFilterAddCommunity& s) {
  v.field("value", s.value, Need::kRequired);
}

template <class V>
void describe(V& v, BGPFilterPrependASPath& s) {
  v.field("prefix", s.prefix, Need::kRequired);
}

template <class V>
void describe(V& v, BGPFilterSetPriority& s) {
  v.field("value", s.value, Need::kRequired);
}

template <class V>
void describe(V& v, BGPFilterOperation& s) {
  v.field("addCommunity", s.addCommunity);
  v.field("prependASPath", s.prependASPath);
  v.field("setPriority", s.setPriority);
}

template <class V>
void describe(V& v, BGPFilterRule& s) {
  v.field("cidr", s.cidr);
  v.field("prefixLength", s.prefixLength);
  v.field("matchOperator", s.matchOperator, Need::kOptional, kMatchOperators);
  v.field("source", s.source, Need::kOptional, kFilterSources);
  v.field("interface", s.interface);
  v.field("peerType", s.peerType, Need::kOptional, kPeerTypes);
  v.field("communities", s.communities);
  v.field("asPathPrefix", s.asPathPrefix);
  v.field("priority", s.priority);
  v.field("action", s.action, Need::kRequired, kFilterActions);
  v.field("operations", s.operations);
}

template <class V>
void describe(V& v, BGPFilterSpec& s) {
  v.field("exportV4", s.exportV4);
  v.field("importV4", s.importV4);
  v.field("exportV6", s.exportV6);
  v.field("importV6", s.importV6);
}

template <class V, class R>
void describeBgpResource(V& v, R& s) {
  v.typeMeta(R::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
}

template <class V>
void describe(V& v, BGPConfiguration& s) {
  describeBgpResource(v, s);
}
template <class V>
void describe(V& v, BGPPeer& s) {
  describeBgpResource(v, s);
}
template <class V>
void describe(V& v, BGPFilter& s) {
  describeBgpResource(v, s);
}

TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(BGPConfiguration)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(BGPPeer)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(BGPFilter)

}  // namespace tartan::model
