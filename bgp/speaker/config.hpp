// bgp/speaker/config.hpp — what this node's speaker should be, computed from datastore resources.
//
// Pure: buildConfig() turns a snapshot of BGPConfiguration, BGPPeer, BGPFilter, Node, IPPool,
// IPAMBlock and BlockAffinity into the node's AS, router ID, listen port, route-reflector role,
// originated blocks, the IP pools (disabled or not: what export policy needs of them) and the set
// of peers, with Calico's semantics:
//  - AS: Node.spec.bgp.asNumber, else BGPConfiguration "default" asNumber, else 64512;
//  - node-to-node mesh (nodeToNodeMeshEnabled, default true) to every other Node with a BGP
//    address, one session per address family as Calico's BIRD/BIRD6 pair;
//  - BGPPeer: global (no node, no nodeSelector), per node (spec.node), or by nodeSelector; the
//    remote side is peerIP, or every Node matched by peerSelector;
//  - a node with routeReflectorClusterID is a route reflector; a peer node without the same
//    cluster ID is its client (RFC 4456 §6).
// Every peer has a stable key, so a live config change can tell which sessions it touches.
//  - BGPFilters are compiled (policy.hpp); a peer that names a filter the speaker must refuse
//    is not brought up, and the reason is in `warnings` — never a session with half its policy;
//  - BGPConfiguration prefixAdvertisements: the node's ("node.<name>") or else the default's.
// Failure: a resource field that does not parse is skipped and reported in `warnings`.
#pragma once

#include "policy.hpp"
#include "types.hpp"

#include <tartan/model/model.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tartan::bgp::speaker {

enum class PeerType { kMesh, kGlobal, kNodeSpecific };
// BGPPeer nextHopMode (the deprecated keepOriginalNextHop is Keep): Auto rewrites the next hop as
// RFC 4271 §5.1.3 asks (our address towards eBGP peers and for our own routes); Self always puts
// our address; Keep passes the route's next hop on unchanged, as BIRD's `next hop keep`.
enum class NextHopMode { kAuto, kSelf, kKeep };
std::string_view peerTypeName(PeerType type);

struct PeerSpec {
  std::string key;  // "mesh/<node>/v4", "peer/<BGPPeer name>/<address>"
  PeerType type = PeerType::kMesh;
  Address address;
  std::uint16_t port = 179;
  std::uint32_t peerAs = 0;
  std::uint32_t localAs = 0;
  std::optional<std::string> password;  // TCP-MD5 key (RFC 2385)
  std::optional<int> ttlSecurity;       // GTSM hops (RFC 5082)
  bool routeReflectorClient = false;
  NextHopMode nextHopMode = NextHopMode::kAuto;
  bool gracefulRestart = true;
  std::uint16_t restartTime = 120;             // seconds, what we ask the peer to wait for us
  std::optional<std::uint16_t> keepaliveTime;  // BGPPeer keepaliveTime, seconds
  std::vector<std::string> filters;            // BGPFilter names, in order (each compiled in policies)
  std::optional<Address> sourceAddress;        // bound before connecting; default: the node's address
  bool bindNodeAddress = true;                 // BGPPeer sourceAddress None: the kernel chooses
  std::uint32_t allowLocalAs = 0;              // BGPPeer numAllowedLocalASNumbers

  bool operator==(const PeerSpec&) const = default;
};

struct PoolSpec {
  Prefix cidr;
  bool disableBgpExport = false;
  bool operator==(const PoolSpec&) const = default;
};

struct SpeakerConfig {
  std::string nodeName;
  std::uint32_t localAs = 64512;
  std::uint32_t routerId = 0;
  std::optional<Address> ipv4;  // the node's BGP addresses (next hop self, mesh endpoints)
  std::optional<Address> ipv6;
  std::uint16_t listenPort = 179;
  // BGPConfiguration bindMode NodeIP: listen on the node's BGP addresses only, not on all.
  bool listenOnNodeAddresses = false;
  bool routeReflector = false;
  std::optional<std::uint32_t> clusterId;
  std::vector<Prefix> blocks;  // this node's IPAM blocks: originated, each with a blackhole
  // BGPConfiguration serviceClusterIPs, serviceExternalIPs and serviceLoadBalancerIPs: originated
  // by every node, not installed in its kernel (kube-proxy owns those addresses). Sorted, unique.
  std::vector<Prefix> serviceCidrs;
  std::vector<PoolSpec> pools;
  std::vector<PeerSpec> peers;                       // sorted by key
  std::map<std::string, CompiledFilter> policies;    // BGPFilters the speaker can apply, by name
  std::vector<PrefixCommunities> prefixCommunities;  // BGPConfiguration prefixAdvertisements
  std::vector<std::string> warnings;

  const PeerSpec* peer(const std::string& key) const;
  bool operator==(const SpeakerConfig& o) const {
    return nodeName == o.nodeName && localAs == o.localAs && routerId == o.routerId && ipv4 == o.ipv4 &&
           ipv6 == o.ipv6 && listenPort == o.listenPort && listenOnNodeAddresses == o.listenOnNodeAddresses &&
           routeReflector == o.routeReflector && clusterId == o.clusterId && blocks == o.blocks &&
           serviceCidrs == o.serviceCidrs && pools == o.pools && peers == o.peers && policies == o.policies &&
           prefixCommunities == o.prefixCommunities;
  }
};

// Where TCP-MD5 passwords come from: a secret name and key to the password, nullopt if unknown.
using SecretLookup =
    std::function<std::optional<std::string>(const std::string& name, const std::string& key)>;

// The resources the speaker reads, latest version of each.
struct ResourceSnapshot {
  std::vector<model::BGPConfiguration> bgpConfigurations;
  std::vector<model::BGPPeer> bgpPeers;
  std::vector<model::BGPFilter> bgpFilters;
  std::vector<model::Node> nodes;
  std::vector<model::IPPool> ipPools;
  std::vector<model::IPAMBlock> ipamBlocks;
  std::vector<model::BlockAffinity> blockAffinities;
};

SpeakerConfig buildConfig(const ResourceSnapshot& snapshot, const std::string& nodeName,
                          const SecretLookup& secrets = {});

// Go durations as Calico writes them ("120s", "2m", "1m30s", "500ms"), in whole seconds rounded
// down (tartan/common/duration.hpp); nullopt if malformed or negative.
std::optional<std::uint32_t> parseDurationSeconds(std::string_view text);

}  // namespace tartan::bgp::speaker
