// buildConfig: Calico's rules for AS numbers, the mesh, BGPPeer scopes, route reflectors, blocks.
#include "config.hpp"

#include "rib/rib.hpp"

#include <catch2/catch.hpp>

using namespace tartan;
using namespace tartan::bgp;
using namespace tartan::bgp::speaker;

namespace {

model::Node makeNode(const std::string& name, const std::string& v4, const std::string& v6 = "",
                     const std::string& cluster = "", std::map<std::string, std::string> labels = {}) {
  model::Node n;
  n.metadata.name = name;
  for (auto& [k, v] : labels) n.metadata.labels[k] = v;
  model::NodeBGPSpec bgp;
  bgp.ipv4Address = v4;
  bgp.ipv6Address = v6;
  bgp.routeReflectorClusterID = cluster;
  n.spec.bgp = bgp;
  return n;
}

model::BGPPeer makePeer(const std::string& name, const std::string& ip, std::uint32_t as) {
  model::BGPPeer p;
  p.metadata.name = name;
  p.spec.peerIP = ip;
  p.spec.asNumber = model::ASNumber{as};
  return p;
}

std::vector<std::string> keys(const SpeakerConfig& c) {
  std::vector<std::string> out;
  for (const auto& p : c.peers) out.push_back(p.key);
  return out;
}

}  // namespace

TEST_CASE("the AS is the node's, else the cluster's, else 64512") {
  ResourceSnapshot snap;
  snap.nodes.push_back(makeNode("a", "10.0.0.1/24"));
  CHECK(buildConfig(snap, "a").localAs == 64512);
  model::BGPConfiguration global;
  global.metadata.name = "default";
  global.spec.asNumber = model::ASNumber{65000};
  snap.bgpConfigurations.push_back(global);
  CHECK(buildConfig(snap, "a").localAs == 65000);
  snap.nodes[0].spec.bgp->asNumber = model::ASNumber{65123};
  const auto c = buildConfig(snap, "a");
  CHECK(c.localAs == 65123);
  CHECK(c.routerId == Address::parse("10.0.0.1")->v4HostOrder());
}

TEST_CASE("the node-to-node mesh has a session per other node and family, unless disabled") {
  ResourceSnapshot snap;
  snap.nodes = {makeNode("a", "10.0.0.1/24", "fd00::1/64"), makeNode("b", "10.0.0.2/24", "fd00::2/64"),
                makeNode("c", "10.0.0.3/24")};
  auto c = buildConfig(snap, "a");
  CHECK(keys(c) == std::vector<std::string>{"mesh/b/v4", "mesh/b/v6", "mesh/c/v4"});
  CHECK(c.peer("mesh/b/v6")->address == *Address::parse("fd00::2"));
  CHECK(c.peer("mesh/b/v4")->peerAs == 64512);
  model::BGPConfiguration global;
  global.metadata.name = "default";
  global.spec.nodeToNodeMeshEnabled = false;
  snap.bgpConfigurations.push_back(global);
  CHECK(buildConfig(snap, "a").peers.empty());
}

TEST_CASE("BGPPeer applies globally, to one node, or by node selector; peerSelector picks nodes") {
  ResourceSnapshot snap;
  snap.nodes = {makeNode("a", "10.0.0.1/24", "", "", {{"rack", "r1"}}),
                makeNode("b", "10.0.0.2/24", "", "", {{"rr", "yes"}})};
  model::BGPConfiguration global;
  global.metadata.name = "default";
  global.spec.nodeToNodeMeshEnabled = false;
  snap.bgpConfigurations.push_back(global);
  snap.bgpPeers.push_back(makePeer("tor", "10.0.0.254", 65001));
  auto onlyB = makePeer("only-b", "10.0.0.253:1179", 65002);
  onlyB.spec.node = "b";
  snap.bgpPeers.push_back(onlyB);
  auto rack = makePeer("rack", "[fd00::fe]:179", 65003);
  rack.spec.nodeSelector = "rack == 'r1'";
  snap.bgpPeers.push_back(rack);
  model::BGPPeer toRr;
  toRr.metadata.name = "to-rr";
  toRr.spec.peerSelector = "has(rr)";
  snap.bgpPeers.push_back(toRr);
  snap.nodes[0].spec.bgp->ipv6Address = "fd00::1/64";

  auto a = buildConfig(snap, "a");
  CHECK(keys(a) == std::vector<std::string>{"peer/rack/fd00::fe", "peer/to-rr/b/v4", "peer/tor/10.0.0.254"});
  CHECK(a.peer("peer/tor/10.0.0.254")->type == PeerType::kGlobal);
  CHECK(a.peer("peer/rack/fd00::fe")->peerAs == 65003);
  auto b = buildConfig(snap, "b");
  // Peerings by selector are symmetric: b, matched by to-rr's peerSelector, peers with a.
  CHECK(keys(b) ==
        std::vector<std::string>{"peer/only-b/10.0.0.253", "peer/to-rr/a/v4", "peer/tor/10.0.0.254"});
  CHECK(b.peer("peer/only-b/10.0.0.253")->port == 1179);
}

TEST_CASE("a node with a cluster ID reflects to nodes outside its cluster (RFC 4456)") {
  ResourceSnapshot snap;
  snap.nodes = {makeNode("rr", "10.0.0.1/24", "", "1.1.1.1"), makeNode("rr2", "10.0.0.2/24", "", "1.1.1.1"),
                makeNode("leaf", "10.0.0.3/24")};
  const auto c = buildConfig(snap, "rr");
  REQUIRE(c.routeReflector);
  CHECK(c.clusterId == Address::parse("1.1.1.1")->v4HostOrder());
  CHECK_FALSE(c.peer("mesh/rr2/v4")->routeReflectorClient);
  CHECK(c.peer("mesh/leaf/v4")->routeReflectorClient);
  CHECK_FALSE(buildConfig(snap, "leaf").peer("mesh/rr/v4")->routeReflectorClient);
}

TEST_CASE("the node's blocks come from IPAMBlock affinity and BlockAffinity") {
  ResourceSnapshot snap;
  snap.nodes = {makeNode("a", "10.0.0.1/24")};
  model::IPAMBlock mine, theirs;
  mine.spec.cidr = "10.65.0.0/26";
  mine.spec.affinity = "host:a";
  theirs.spec.cidr = "10.65.0.64/26";
  theirs.spec.affinity = "host:b";
  snap.ipamBlocks = {mine, theirs};
  model::BlockAffinity aff;
  aff.spec.node = "a";
  aff.spec.cidr = "fd65::/122";
  aff.spec.state = "confirmed";
  aff.spec.deleted = "false";
  snap.blockAffinities = {aff};
  const auto c = buildConfig(snap, "a");
  CHECK(c.blocks == std::vector<Prefix>{*Prefix::parse("10.65.0.0/26"), *Prefix::parse("fd65::/122")});
}

TEST_CASE("a disabled IPPool keeps its place: its blocks are advertised and its disableBGPExport holds") {
  // Disabling a pool stops new addresses (IPAM), not the pods already in it: as in Calico's BIRD
  // config, which never reads `disabled`.
  ResourceSnapshot snap;
  snap.nodes = {makeNode("a", "10.0.0.1/24")};
  model::IPPool old, quiet;
  old.metadata.name = "old";
  old.spec.cidr = "10.65.0.0/16";
  old.spec.disabled = true;
  quiet.metadata.name = "quiet";
  quiet.spec.cidr = "10.70.0.0/16";
  quiet.spec.disabled = true;
  quiet.spec.disableBGPExport = true;
  snap.ipPools = {old, quiet};
  model::IPAMBlock block;
  block.spec.cidr = "10.65.0.0/26";
  block.spec.affinity = "host:a";
  snap.ipamBlocks = {block};
  const auto c = buildConfig(snap, "a");
  CHECK(c.blocks == std::vector<Prefix>{*Prefix::parse("10.65.0.0/26")});
  CHECK(c.pools == std::vector<PoolSpec>{{*Prefix::parse("10.65.0.0/16"), false},
                                         {*Prefix::parse("10.70.0.0/16"), true}});
  CHECK(c.warnings.empty());

  // What the export policy makes of it towards an eBGP peer.
  PathAttributes local;
  local.origin = Origin::kIgp;
  local.asPath = AsPath{};
  local.nextHop = *Address::parse("10.0.0.1");
  PeerSpec tor;
  tor.key = "peer/tor/10.0.0.254";
  PeerInfo torInfo;
  torInfo.asn = 65001;
  const ExportCandidate ours{&local, true, std::nullopt};
  const ExportCandidate learned{&local, false, std::nullopt};
  CHECK(exportRoute(c, tor, torInfo, *Prefix::parse("10.65.0.0/26"), ours, local));      // our block
  CHECK(exportRoute(c, tor, torInfo, *Prefix::parse("10.65.0.64/26"), learned, local));  // in the pool
  CHECK_FALSE(exportRoute(c, tor, torInfo, *Prefix::parse("10.70.0.0/26"), learned, local));
}

TEST_CASE("BGPFilters are compiled; a peer naming a refused filter is not started") {
  ResourceSnapshot snap;
  snap.nodes = {makeNode("a", "10.0.0.1/24")};
  model::BGPFilter good;
  good.metadata.name = "good";
  model::BGPFilterRule reject;
  reject.cidr = "10.1.0.0/16";
  reject.matchOperator = "In";
  reject.action = "Reject";
  good.spec.importV4 = {reject};
  model::BGPFilter bad = good;
  bad.metadata.name = "bad";
  bad.spec.importV4[0].source = "Anywhere";  // refused: only RemotePeers exists
  snap.bgpFilters = {good, bad};
  auto withGood = makePeer("tor1", "10.0.0.254", 65001);
  withGood.spec.filters = {"good"};
  auto withBad = makePeer("tor2", "10.0.0.253", 65001);
  withBad.spec.filters = {"good", "bad"};
  snap.bgpPeers = {withGood, withBad};
  const auto c = buildConfig(snap, "a");
  CHECK(c.policies.contains("good"));
  CHECK_FALSE(c.policies.contains("bad"));
  CHECK(keys(c) == std::vector<std::string>{"peer/tor1/10.0.0.254"});
  bool said = false;
  for (const auto& w : c.warnings)
    said = said || (w.find("tor2") != std::string::npos && w.find("source") != std::string::npos);
  CHECK(said);
}

TEST_CASE("BGPPeer nextHopMode and keepOriginalNextHop") {
  const std::vector<std::tuple<std::optional<std::string>, bool, NextHopMode>> cases{
      {std::nullopt, false, NextHopMode::kAuto},
      {"Auto", false, NextHopMode::kAuto},
      {"Self", false, NextHopMode::kSelf},
      {"Keep", false, NextHopMode::kKeep},
      {std::nullopt, true, NextHopMode::kKeep}};
  for (const auto& [mode, keep, want] : cases) {
    ResourceSnapshot snap;
    snap.nodes = {makeNode("a", "10.0.0.1/24")};
    auto peer = makePeer("tor", "10.0.0.254", 65001);
    peer.spec.nextHopMode = mode;
    peer.spec.keepOriginalNextHop = keep;
    snap.bgpPeers = {peer};
    const auto c = buildConfig(snap, "a");
    REQUIRE(c.peers.size() == 1);
    CHECK(c.peers[0].nextHopMode == want);
  }
}

TEST_CASE("prefixAdvertisements: the node's BGPConfiguration, else the default; names resolved") {
  ResourceSnapshot snap;
  snap.nodes = {makeNode("a", "10.0.0.1/24")};
  model::BGPConfiguration global;
  global.metadata.name = "default";
  global.spec.communities = {{"gold", "65000:100"}};
  global.spec.prefixAdvertisements = {{"10.65.0.0/16", {"gold", "65000:1:2"}}, {"10.66.0.0/16", {"nosuch"}}};
  snap.bgpConfigurations = {global};
  auto c = buildConfig(snap, "a");
  REQUIRE(c.prefixCommunities.size() == 1);  // the unresolvable one is skipped, with a warning
  CHECK(c.prefixCommunities[0].cidr == *Prefix::parse("10.65.0.0/16"));
  CHECK(c.prefixCommunities[0].changes.communities == std::vector<std::uint32_t>{65000u << 16 | 100});
  CHECK(c.prefixCommunities[0].changes.largeCommunities == std::vector<LargeCommunity>{{65000, 1, 2}});
  CHECK_FALSE(c.warnings.empty());

  model::BGPConfiguration mine;
  mine.metadata.name = "node.a";
  mine.spec.prefixAdvertisements = {{"10.65.1.0/26", {"gold"}}};
  snap.bgpConfigurations.push_back(mine);
  c = buildConfig(snap, "a");
  REQUIRE(c.prefixCommunities.size() == 1);
  CHECK(c.prefixCommunities[0].cidr == *Prefix::parse("10.65.1.0/26"));
  CHECK(c.prefixCommunities[0].changes.communities == std::vector<std::uint32_t>{65000u << 16 | 100});
}

TEST_CASE("Go durations: the one grammar the model validates, in whole seconds") {
  CHECK(parseDurationSeconds("120s") == 120u);
  CHECK(parseDurationSeconds("2m") == 120u);
  CHECK(parseDurationSeconds("1m30s") == 90u);
  CHECK(parseDurationSeconds("1500ms") == 1u);
  CHECK(parseDurationSeconds("500us") == 0u);  // the model accepts it, so bgpd must too
  CHECK(parseDurationSeconds("0") == 0u);
  CHECK_FALSE(parseDurationSeconds("soon"));
  CHECK_FALSE(parseDurationSeconds("-1s"));
}

TEST_CASE(
    "service ranges (merged, sorted, unique) and bindMode come from the default BGPConfiguration only") {
  ResourceSnapshot snap;
  snap.nodes.push_back(makeNode("a", "10.0.0.1/24"));
  model::BGPConfiguration global;
  global.metadata.name = "default";
  global.spec.serviceClusterIPs = {{"10.96.0.0/12"}, {"fd00:96::/108"}};
  global.spec.serviceExternalIPs = {{"192.0.2.0/24"}, {"10.96.0.0/12"}};
  global.spec.serviceLoadBalancerIPs = {{"198.51.100.0/26"}, {"not-a-cidr"}};
  model::BGPConfiguration perNode;
  perNode.metadata.name = "node.a";
  perNode.spec.serviceClusterIPs = {{"172.16.0.0/16"}};
  snap.bgpConfigurations = {perNode, global};
  const auto c = buildConfig(snap, "a");
  CHECK_FALSE(c.listenOnNodeAddresses);
  CHECK(c.serviceCidrs == std::vector<Prefix>{*Prefix::parse("10.96.0.0/12"), *Prefix::parse("192.0.2.0/24"),
                                              *Prefix::parse("198.51.100.0/26"),
                                              *Prefix::parse("fd00:96::/108")});
  REQUIRE(c.warnings.size() == 1);
  CHECK(c.warnings[0].find("not-a-cidr") != std::string::npos);
  snap.bgpConfigurations[1].spec.bindMode = "NodeIP";
  CHECK(buildConfig(snap, "a").listenOnNodeAddresses);
}

TEST_CASE(
    "BGPPeer sourceAddress, numAllowedLocalASNumbers, keepaliveTime and session settings hold on both sides "
    "of a peerSelector") {
  ResourceSnapshot snap;
  snap.nodes = {makeNode("a", "10.0.0.1/24", "", "", {{"rr", "yes"}}), makeNode("b", "10.0.0.2/24")};
  model::BGPConfiguration global;
  global.metadata.name = "default";
  global.spec.nodeToNodeMeshEnabled = false;
  snap.bgpConfigurations.push_back(global);
  auto tor = makePeer("tor", "10.0.0.254", 65001);
  tor.spec.sourceAddress = "None";
  tor.spec.numAllowedLocalASNumbers = 2;
  snap.bgpPeers.push_back(tor);
  model::BGPPeer toRr;
  toRr.metadata.name = "to-rr";
  toRr.spec.peerSelector = "has(rr)";
  toRr.spec.ttlSecurity = 1;
  toRr.spec.maxRestartTime = "30s";
  toRr.spec.numAllowedLocalASNumbers = 1;
  toRr.spec.keepaliveTime = "10s";
  snap.bgpPeers.push_back(toRr);

  const auto b = buildConfig(snap, "b");
  const auto* t = b.peer("peer/tor/10.0.0.254");
  REQUIRE(t);
  CHECK_FALSE(t->bindNodeAddress);
  CHECK(t->allowLocalAs == 2);
  const auto* forward = b.peer("peer/to-rr/a/v4");
  REQUIRE(forward);
  CHECK(forward->bindNodeAddress);
  // a is matched by the peerSelector: its side of the session has the same settings.
  const auto a = buildConfig(snap, "a");
  const auto* reverse = a.peer("peer/to-rr/b/v4");
  REQUIRE(reverse);
  for (const auto* p : {forward, reverse}) {
    CHECK(p->ttlSecurity == std::optional<int>(1));
    CHECK(p->restartTime == 30);
    CHECK(p->allowLocalAs == 1);
    CHECK(p->keepaliveTime == std::optional<std::uint16_t>(10));
  }
}
