// tartan/model/bgp.hpp — BGPConfiguration, BGPPeer and BGPFilter (projectcalico.org/v3).
#pragma once

#include "tartan/model/kind.hpp"
#include "tartan/model/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tartan::model {

// numorstring.ASNumber: a 4-byte AS number, written as a number, or on input also as a string
// in asplain ("64512") or asdot ("1.10") notation (RFC 5396).
struct ASNumber {
  uint32_t value = 0;
  bool operator==(const ASNumber&) const = default;
};

struct SecretKeySelector {
  std::string name;
  std::string key;
  std::optional<bool> optional;
  bool operator==(const SecretKeySelector&) const = default;
};

struct BGPPassword {
  std::optional<SecretKeySelector> secretKeyRef;
  bool operator==(const BGPPassword&) const = default;
};

struct CIDRBlock {  // ServiceLoadBalancerIPBlock, ServiceExternalIPBlock, ServiceClusterIPBlock
  std::string cidr;
  bool operator==(const CIDRBlock&) const = default;
};

struct Community {
  std::string name;
  std::string value;  // "aa:nn" or "aa:nn:mm"
  bool operator==(const Community&) const = default;
};

struct PrefixAdvertisement {
  std::string cidr;
  std::vector<std::string> communities;  // names from spec.communities, or values
  bool operator==(const PrefixAdvertisement&) const = default;
};

struct BGPConfigurationSpec {
  std::string logSeverityScreen;
  std::optional<bool> nodeToNodeMeshEnabled;  // default true
  std::optional<ASNumber> asNumber;           // default 64512
  std::vector<CIDRBlock> serviceLoadBalancerIPs;
  std::vector<CIDRBlock> serviceExternalIPs;
  std::vector<CIDRBlock> serviceClusterIPs;
  std::vector<Community> communities;
  std::vector<PrefixAdvertisement> prefixAdvertisements;
  uint16_t listenPort = 0;  // default 179
  std::optional<BGPPassword> nodeMeshPassword;
  std::optional<std::string> nodeMeshMaxRestartTime;  // a Go duration, "120s"
  std::optional<std::string> bindMode;                // None, NodeIP
  std::vector<std::string> ignoredInterfaces;
  std::string localWorkloadPeeringIPV4;
  std::string localWorkloadPeeringIPV6;
  std::optional<std::string> programClusterRoutes;  // Enabled, Disabled
  bool operator==(const BGPConfigurationSpec&) const = default;
};

struct BGPConfiguration {
  static constexpr Kind kKind = Kind::kBGPConfiguration;
  ObjectMeta metadata;
  BGPConfigurationSpec spec;
  bool operator==(const BGPConfiguration&) const = default;
};

struct BGPPeerSpec {
  std::string node;
  std::string nodeSelector;
  std::string peerIP;  // "10.0.0.1", "10.0.0.1:1179", "[fd00::1]:1179"
  ASNumber asNumber;
  std::string peerSelector;
  bool keepOriginalNextHop = false;
  std::optional<std::string> nextHopMode;  // Auto, Self, Keep
  std::optional<BGPPassword> password;
  std::string sourceAddress;         // UseNodeIP (default), None
  std::string failureDetectionMode;  // None, BFDIfDirectlyConnected
  std::string restartMode;           // GracefulRestart, LongLivedGracefulRestart
  std::optional<std::string> maxRestartTime;
  std::string birdGatewayMode;  // Recursive, DirectIfDirectlyConnected
  std::optional<int32_t> numAllowedLocalASNumbers;
  std::optional<int> ttlSecurity;  // 0-255 hops (GTSM, RFC 5082)
  std::vector<std::string> filters;
  std::string reachableBy;
  std::string localWorkloadSelector;
  std::optional<std::string> reversePeering;  // Auto, Manual
  std::optional<ASNumber> localASNumber;
  std::optional<std::string> keepaliveTime;  // a Go duration, "20s" (RFC 4271 §4.4)
  bool operator==(const BGPPeerSpec&) const = default;
};

struct BGPPeer {
  static constexpr Kind kKind = Kind::kBGPPeer;
  ObjectMeta metadata;
  BGPPeerSpec spec;
  bool operator==(const BGPPeer&) const = default;
};

struct BGPFilterPrefixLength {
  std::optional<int32_t> min;
  std::optional<int32_t> max;
  bool operator==(const BGPFilterPrefixLength&) const = default;
};

// Matches routes that carry a community (RFC 1997 "aa:nn" or RFC 8092 "aa:nn:mm"). Calico
// allows exactly one value for now.
struct BGPFilterCommunityMatch {
  std::vector<std::string> values;
  bool operator==(const BGPFilterCommunityMatch&) const = default;
};

struct BGPFilterAddCommunity {
  std::string value;  // "aa:nn" or "aa:nn:mm"
  bool operator==(const BGPFilterAddCommunity&) const = default;
};

struct BGPFilterPrependASPath {
  std::vector<ASNumber> prefix;  // the path starts with these, in this order; 1 to 10
  bool operator==(const BGPFilterPrependASPath&) const = default;
};

struct BGPFilterSetPriority {
  int value = 0;  // route priority (kernel metric), 1 to 2147483646
  bool operator==(const BGPFilterSetPriority&) const = default;
};

// One route modification of an Accept rule: exactly one member is set.
struct BGPFilterOperation {
  std::optional<BGPFilterAddCommunity> addCommunity;
  std::optional<BGPFilterPrependASPath> prependASPath;
  std::optional<BGPFilterSetPriority> setPriority;
  bool operator==(const BGPFilterOperation&) const = default;
};

// A rule matches when every match field that is set matches; the first matching rule's action
// decides, after its operations (Accept only) have been applied in order.
struct BGPFilterRule {  // BGPFilterRuleV4 and BGPFilterRuleV6
  std::string cidr;
  std::optional<BGPFilterPrefixLength> prefixLength;
  std::string matchOperator;  // Equal, NotEqual, In, NotIn
  std::string source;         // RemotePeers (export rules only)
  std::string interface;
  std::string action;    // Accept, Reject
  std::string peerType;  // eBGP, iBGP; empty matches both
  std::optional<BGPFilterCommunityMatch> communities;
  std::vector<ASNumber> asPathPrefix;          // the AS path starts with these
  std::optional<int> priority;                 // the route's priority, 1 to 2147483646
  std::vector<BGPFilterOperation> operations;  // Accept only, 1 to 10
  bool operator==(const BGPFilterRule&) const = default;
};

struct BGPFilterSpec {
  std::vector<BGPFilterRule> exportV4;
  std::vector<BGPFilterRule> importV4;
  std::vector<BGPFilterRule> exportV6;
  std::vector<BGPFilterRule> importV6;
  bool operator==(const BGPFilterSpec&) const = default;
};

struct BGPFilter {
  static constexpr Kind kKind = Kind::kBGPFilter;
  ObjectMeta metadata;
  BGPFilterSpec spec;
  bool operator==(const BGPFilter&) const = default;
};

}  // namespace tartan::model
