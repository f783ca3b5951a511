// tartan/model/node.hpp — Calico's Node resource (libcalico-go NodeSpec and NodeStatus): the
// node's BGP identity, tunnel addresses and orchestrator references.
#pragma once

#include "tartan/model/bgp.hpp"
#include "tartan/model/kind.hpp"
#include "tartan/model/types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tartan::model {

struct NodeBGPSpec {
  std::optional<ASNumber> asNumber;
  std::string ipv4Address;  // CIDR form: "10.0.0.1/24"
  std::string ipv6Address;
  std::string ipv4IPIPTunnelAddr;
  std::string routeReflectorClusterID;  // an IPv4 address
  bool operator==(const NodeBGPSpec&) const = default;
};

struct OrchRef {
  std::string nodeName;
  std::string orchestrator;
  bool operator==(const OrchRef&) const = default;
};

struct NodeWireguardSpec {
  std::string interfaceIPv4Address;
  std::string interfaceIPv6Address;
  bool operator==(const NodeWireguardSpec&) const = default;
};

struct CalicoNodeAddress {
  std::string address;
  std::string type;  // CalicoNodeIP, InternalIP, ExternalIP
  bool operator==(const CalicoNodeAddress&) const = default;
};

struct NodeSpec {
  std::optional<NodeBGPSpec> bgp;
  std::string ipv4VXLANTunnelAddr;
  std::string vxlanTunnelMACAddr;
  std::string ipv6VXLANTunnelAddr;
  std::string vxlanTunnelMACAddrV6;
  std::vector<OrchRef> orchRefs;
  std::optional<NodeWireguardSpec> wireguard;
  std::vector<CalicoNodeAddress> addresses;
  bool operator==(const NodeSpec&) const = default;
};

struct NodeStatus {
  std::string wireguardPublicKey;
  std::string wireguardPublicKeyV6;
  std::vector<std::string> podCIDRs;
  bool operator==(const NodeStatus&) const = default;
};

struct Node {
  static constexpr Kind kKind = Kind::kNode;
  ObjectMeta metadata;
  NodeSpec spec;
  NodeStatus status;
  bool operator==(const Node&) const = default;
};

}  // namespace tartan::model
