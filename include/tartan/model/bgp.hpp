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

struct BGPFilterRule {  // BGPFilterRuleV4 and BGPFilterRuleV6
  std::string cidr;
  std::optional<BGPFilterPrefixLength> prefixLength;
  std::string matchOperator;  // Equal, NotEqual, In, NotIn
  std::string source;         // RemotePeers
  std::string interface;
  std::string action;  // Accept, Reject
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
