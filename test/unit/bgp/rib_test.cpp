// The RIB: import checks, best path into the Loc-RIB, export rules (eBGP/iBGP, route reflection,
// communities, Partial bit, policy hooks), and packing of the Adj-RIB-Out into UPDATEs.
#include "rib/rib.hpp"
#include "hex.hpp"
#include "rib/packing.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace tartan::bgp;
using namespace tartan::bgp::test;

namespace {

constexpr std::uint32_t kLocalAs = 65001;
constexpr std::uint32_t kRouterId = 0x01010101;

RibConfig rrConfig(bool reflector = false) {
  RibConfig c;
  c.localAs = kLocalAs;
  c.routerId = kRouterId;
  c.routeReflector = reflector;
  c.maxPaths = 4;
  return c;
}

PeerInfo peer(PeerId id, std::uint32_t asn, bool client = false) {
  PeerInfo p;
  p.id = id;
  p.asn = asn;
  p.address = Address::v4(0x0a000000 + id);
  p.routerId = 0x0a000000 + id;
  p.routeReflectorClient = client;
  p.localAddress = addr("10.255.0.1");
  p.localAddressV6 = addr("2001:db8:ff::1");
  return p;
}

PathAttributes route(std::vector<std::uint32_t> path, const char* nextHop = "10.0.0.99") {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.asPath = path.empty() ? AsPath{} : AsPath{{AsSegmentType::kSequence, std::move(path)}};
  a.nextHop = addr(nextHop);
  return a;
}

NlriEntry n(const char* prefix) { return NlriEntry{pfx(prefix), 0}; }

// The attributes queued for a peer for one prefix; nullopt if nothing, Attrs{} for a withdrawal.
std::optional<PathAttributes> sentTo(Rib& rib, PeerId id, const char* prefix) {
  const auto* out = rib.adjRibOut(id);
  REQUIRE(out);
  auto it = out->find(n(prefix));
  if (it == out->end()) return std::nullopt;
  return *it->second;
}

}  // namespace

TEST_CASE("an eBGP route becomes best and is exported with the right rewrites") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));     // eBGP source
  rib.addPeer(peer(2, 65003));     // another eBGP peer
  rib.addPeer(peer(3, kLocalAs));  // iBGP
  auto a = route({65002});
  a.med = 50;
  CHECK(rib.announce(1, n("192.0.2.0/24"), a) == ImportResult::kAccepted);
  const auto* entry = rib.locRib(pfx("192.0.2.0/24"));
  REQUIRE(entry);
  CHECK(entry->bestRoute().peer == 1);

  const auto ebgp = sentTo(rib, 2, "192.0.2.0/24");
  REQUIRE(ebgp);
  CHECK(ebgp->asPath == AsPath{{AsSegmentType::kSequence, {kLocalAs, 65002}}});
  CHECK(ebgp->nextHop == addr("10.255.0.1"));
  CHECK_FALSE(ebgp->med);        // a neighbour's MED stays in its AS pair
  CHECK_FALSE(ebgp->localPref);  // never to eBGP

  const auto ibgp = sentTo(rib, 3, "192.0.2.0/24");
  REQUIRE(ibgp);
  CHECK(ibgp->asPath == a.asPath);            // unchanged inside the AS
  CHECK(ibgp->nextHop == addr("10.0.0.99"));  // next hop kept over iBGP
  CHECK(ibgp->localPref == kDefaultLocalPref);
  CHECK(ibgp->med == 50u);

  CHECK_FALSE(sentTo(rib, 1, "192.0.2.0/24"));  // not back to its source
}

TEST_CASE("next-hop-self on iBGP rewrites eBGP-learned next hops") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  auto ibgp = peer(3, kLocalAs);
  ibgp.nextHopSelf = true;
  rib.addPeer(ibgp);
  rib.announce(1, n("192.0.2.0/24"), route({65002}));
  CHECK(sentTo(rib, 3, "192.0.2.0/24")->nextHop == addr("10.255.0.1"));
}

TEST_CASE("routes with our AS in the path are loops and replace the earlier route") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.announce(1, n("192.0.2.0/24"), route({65002}));
  CHECK(rib.announce(1, n("192.0.2.0/24"), route({65002, kLocalAs, 65009})) == ImportResult::kAsLoop);
  CHECK_FALSE(rib.locRib(pfx("192.0.2.0/24")));
  // The Adj-RIB-In still shows what the peer sent.
  CHECK(rib.adjRibIn(1)->count(n("192.0.2.0/24")) == 1);
}

TEST_CASE("a peer allowed our AS N times (numAllowedLocalASNumbers) has paths with up to N of it accepted") {
  Rib rib(rrConfig());
  auto allowed = peer(1, 65002);
  allowed.allowLocalAs = 2;
  rib.addPeer(allowed);
  rib.addPeer(peer(2, 65003));
  CHECK(rib.announce(1, n("192.0.2.0/24"), route({65002, kLocalAs, 65009})) == ImportResult::kAccepted);
  CHECK(rib.announce(1, n("192.0.2.64/26"), route({65002, kLocalAs, 65009, kLocalAs})) ==
        ImportResult::kAccepted);
  CHECK(rib.announce(1, n("192.0.2.128/26"), route({65002, kLocalAs, kLocalAs, kLocalAs})) ==
        ImportResult::kAsLoop);
  CHECK(rib.locRib(pfx("192.0.2.0/24")));
  CHECK(rib.locRib(pfx("192.0.2.64/26")));
  CHECK_FALSE(rib.locRib(pfx("192.0.2.128/26")));
  // Another peer keeps RFC 4271's rule.
  CHECK(rib.announce(2, n("198.51.100.0/24"), route({65003, kLocalAs})) == ImportResult::kAsLoop);
}

TEST_CASE("withdrawals remove the route and are queued to peers that had it") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(2, 65003));
  rib.announce(1, n("192.0.2.0/24"), route({65002}));
  rib.takeOutbound(2);
  rib.withdraw(1, n("192.0.2.0/24"));
  CHECK_FALSE(rib.locRib(pfx("192.0.2.0/24")));
  const auto batch = rib.takeOutbound(2);
  CHECK(batch.withdrawn == std::vector<NlriEntry>{n("192.0.2.0/24")});
  CHECK(batch.announced.empty());
}

TEST_CASE("a better path from another peer replaces the best and re-exports") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(2, 65003));
  rib.addPeer(peer(3, kLocalAs));
  rib.announce(1, n("192.0.2.0/24"), route({65002, 65010}));
  rib.announce(2, n("192.0.2.0/24"), route({65003}));
  const auto* entry = rib.locRib(pfx("192.0.2.0/24"));
  CHECK(entry->bestRoute().peer == 2);
  CHECK(entry->decidedBy() == DecisionStep::kAsPathLength);
  CHECK(sentTo(rib, 3, "192.0.2.0/24")->asPath == AsPath{{AsSegmentType::kSequence, {65003}}});
  // Peer 1 now hears about peer 2's path; peer 2 gets a withdrawal of the old export.
  CHECK(sentTo(rib, 1, "192.0.2.0/24"));
  CHECK_FALSE(sentTo(rib, 2, "192.0.2.0/24"));
}

TEST_CASE("new attributes on the best path are re-exported even though the same path wins") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(3, kLocalAs));
  auto a = route({65002});
  a.med = 1;
  rib.announce(1, n("192.0.2.0/24"), a);
  rib.takeOutbound(3);
  rib.takeChangedPrefixes();
  a.med = 2;
  rib.announce(1, n("192.0.2.0/24"), a);
  CHECK(sentTo(rib, 3, "192.0.2.0/24")->med == 2u);
  CHECK(rib.takeOutbound(3).announced.size() == 1);
  CHECK(rib.takeChangedPrefixes() == std::vector<Prefix>{pfx("192.0.2.0/24")});
}

TEST_CASE("ECMP: equal paths up to IGP cost form the Loc-RIB multipath set, capped by maxPaths") {
  auto config = rrConfig();
  config.maxPaths = 2;
  Rib rib(config);
  for (PeerId id = 1; id <= 3; ++id) rib.addPeer(peer(id, 65002));
  for (PeerId id = 1; id <= 3; ++id) rib.announce(id, n("192.0.2.0/24"), route({65002}));
  const auto* entry = rib.locRib(pfx("192.0.2.0/24"));
  REQUIRE(entry);
  CHECK(entry->multipath().size() == 2);
  CHECK(entry->bestRoute().peer == 1);  // lowest router ID
}

TEST_CASE("IGP cost from the resolver breaks ties before router ID") {
  Rib rib(rrConfig());
  rib.setIgpCost(
      [](const Address& nh) -> std::optional<std::uint32_t> { return nh == addr("10.0.0.2") ? 1 : 10; });
  rib.addPeer(peer(1, kLocalAs));
  rib.addPeer(peer(2, kLocalAs));
  rib.announce(1, n("192.0.2.0/24"), route({65009}, "10.0.0.1"));
  rib.announce(2, n("192.0.2.0/24"), route({65009}, "10.0.0.2"));
  CHECK(rib.locRib(pfx("192.0.2.0/24"))->bestRoute().peer == 2);
  CHECK(rib.locRib(pfx("192.0.2.0/24"))->decidedBy() == DecisionStep::kIgpCost);
}

TEST_CASE("without route reflection, iBGP routes are not sent to iBGP peers") {
  Rib rib(rrConfig(false));
  rib.addPeer(peer(1, kLocalAs));
  rib.addPeer(peer(2, kLocalAs));
  rib.addPeer(peer(3, 65003));
  rib.announce(1, n("192.0.2.0/24"), route({}));
  CHECK_FALSE(sentTo(rib, 2, "192.0.2.0/24"));
  CHECK(sentTo(rib, 3, "192.0.2.0/24"));
}

TEST_CASE("route reflection (RFC 4456 §6)") {
  Rib rib(rrConfig(true));
  rib.addPeer(peer(1, kLocalAs, true));   // client
  rib.addPeer(peer(2, kLocalAs, true));   // client
  rib.addPeer(peer(3, kLocalAs, false));  // non-client
  rib.addPeer(peer(4, kLocalAs, false));  // non-client
  rib.addPeer(peer(5, 65005));            // eBGP

  SECTION("from a client: to the other clients and to non-clients, with ORIGINATOR_ID and CLUSTER_LIST") {
    rib.announce(1, n("192.0.2.0/24"), route({}));
    for (PeerId to : {2u, 3u, 4u}) {
      const auto a = sentTo(rib, to, "192.0.2.0/24");
      REQUIRE(a);
      CHECK(a->originatorId == peer(1, 0).routerId);
      CHECK(a->clusterList == std::vector<std::uint32_t>{kRouterId});
    }
    CHECK_FALSE(sentTo(rib, 1, "192.0.2.0/24"));
    const auto ext = sentTo(rib, 5, "192.0.2.0/24");
    REQUIRE(ext);
    CHECK_FALSE(ext->originatorId);  // not reflection: no RR attributes to eBGP
    CHECK_FALSE(ext->clusterList);
  }
  SECTION("from a non-client: to clients only") {
    rib.announce(3, n("192.0.2.0/24"), route({}));
    CHECK(sentTo(rib, 1, "192.0.2.0/24"));
    CHECK(sentTo(rib, 2, "192.0.2.0/24"));
    CHECK_FALSE(sentTo(rib, 4, "192.0.2.0/24"));
    CHECK(sentTo(rib, 5, "192.0.2.0/24"));
  }
  SECTION("from eBGP: to clients and non-clients, unreflected") {
    rib.announce(5, n("192.0.2.0/24"), route({65005}));
    for (PeerId to : {1u, 2u, 3u, 4u}) {
      const auto a = sentTo(rib, to, "192.0.2.0/24");
      REQUIRE(a);
      CHECK_FALSE(a->originatorId);
    }
  }
  SECTION("an existing ORIGINATOR_ID is kept and our cluster is prepended") {
    auto a = route({});
    a.originatorId = 0x09090909;
    a.clusterList = std::vector<std::uint32_t>{0x07070707};
    rib.announce(1, n("192.0.2.0/24"), a);
    const auto out = sentTo(rib, 3, "192.0.2.0/24");
    CHECK(out->originatorId == 0x09090909u);
    CHECK(out->clusterList == std::vector<std::uint32_t>{kRouterId, 0x07070707});
  }
  SECTION("on receipt, our ORIGINATOR_ID or our CLUSTER_ID is a loop (RFC 4456 §8)") {
    auto own = route({});
    own.originatorId = kRouterId;
    CHECK(rib.announce(3, n("192.0.2.0/24"), own) == ImportResult::kOriginatorLoop);
    auto cluster = route({});
    cluster.clusterList = std::vector<std::uint32_t>{5, kRouterId};
    CHECK(rib.announce(3, n("192.0.2.0/24"), cluster) == ImportResult::kClusterLoop);
    CHECK_FALSE(rib.locRib(pfx("192.0.2.0/24")));
  }
}

TEST_CASE("a configured cluster ID is used instead of the router ID") {
  auto config = rrConfig(true);
  config.clusterId = 0x0c0c0c0c;
  Rib rib(config);
  rib.addPeer(peer(1, kLocalAs, true));
  rib.addPeer(peer(2, kLocalAs, true));
  rib.announce(1, n("192.0.2.0/24"), route({}));
  CHECK(sentTo(rib, 2, "192.0.2.0/24")->clusterList == std::vector<std::uint32_t>{0x0c0c0c0c});
}

TEST_CASE("well-known communities limit export (RFC 1997)") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(2, 65003));
  rib.addPeer(peer(3, kLocalAs));
  auto noExport = route({65002});
  noExport.communities = std::vector<std::uint32_t>{community::kNoExport};
  rib.announce(1, n("192.0.2.0/24"), noExport);
  CHECK_FALSE(sentTo(rib, 2, "192.0.2.0/24"));
  CHECK(sentTo(rib, 3, "192.0.2.0/24"));

  auto subconfed = route({65002});
  subconfed.communities = std::vector<std::uint32_t>{community::kNoExportSubconfed};
  rib.announce(1, n("192.0.3.0/24"), subconfed);
  CHECK_FALSE(sentTo(rib, 2, "192.0.3.0/24"));

  auto noAdvertise = route({65002});
  noAdvertise.communities = std::vector<std::uint32_t>{community::kNoAdvertise};
  rib.announce(1, n("192.0.4.0/24"), noAdvertise);
  CHECK_FALSE(sentTo(rib, 2, "192.0.4.0/24"));
  CHECK_FALSE(sentTo(rib, 3, "192.0.4.0/24"));
  CHECK(rib.locRib(pfx("192.0.4.0/24")));  // still used locally
}

TEST_CASE("unknown optional transitive attributes go on with Partial set; non-transitive ones stop") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(2, 65003));
  auto a = route({65002});
  a.unknown = {RawAttribute{0xc0, 99, {1}}, RawAttribute{0x80, 98, {2}}};
  rib.announce(1, n("192.0.2.0/24"), a);
  const auto out = sentTo(rib, 2, "192.0.2.0/24");
  REQUIRE(out);
  CHECK(out->unknown == std::vector<RawAttribute>{RawAttribute{0xe0, 99, {1}}});
}

TEST_CASE("import and export policy hooks can change or reject routes") {
  Rib rib(rrConfig());
  rib.setImportPolicy(
      [](const PeerInfo&, const Prefix& p, PathAttributes a) -> std::optional<PathAttributes> {
        if (p.length() > 24) return std::nullopt;
        a.localPref = 300;
        return a;
      });
  rib.setExportPolicy(
      [](const PeerInfo& to, const Prefix&, PathAttributes a) -> std::optional<PathAttributes> {
        if (to.id == 3) return std::nullopt;
        a.communities = std::vector<std::uint32_t>{(65001u << 16) | 7};
        return a;
      });
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(2, kLocalAs));
  rib.addPeer(peer(3, kLocalAs));
  CHECK(rib.announce(1, n("192.0.2.128/25"), route({65002})) == ImportResult::kRejectedByPolicy);
  CHECK(rib.announce(1, n("192.0.2.0/24"), route({65002})) == ImportResult::kAccepted);
  const auto out = sentTo(rib, 2, "192.0.2.0/24");
  REQUIRE(out);
  CHECK(out->localPref == 300u);
  CHECK(out->communities == std::vector<std::uint32_t>{(65001u << 16) | 7});
  CHECK_FALSE(sentTo(rib, 3, "192.0.2.0/24"));
}

TEST_CASE("applyUpdate: treat-as-withdraw withdraws every prefix of the UPDATE") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  Update u;
  u.attributes = route({65002});
  u.nlri = {n("192.0.2.0/24"), n("198.51.100.0/24")};
  rib.applyUpdate(1, u, UpdateOutcome{});
  CHECK(rib.locRibSize() == 2);
  UpdateOutcome taw;
  taw.raise(ErrorAction::kTreatAsWithdraw, "test");
  rib.applyUpdate(1, u, taw);
  CHECK(rib.locRibSize() == 0);
}

TEST_CASE("applyUpdate: IPv6 routes carry their MP_REACH next hop; AFI/SAFI disable flushes the family") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(2, 65003));
  Update u;
  u.attributes = route({65002});
  u.attributes.mpReach = MpReach{kIpv6Unicast, addr("2001:db8::2"), addr("fe80::2"), {n("2001:db8:1::/48")}};
  u.nlri = {n("192.0.2.0/24")};
  rib.applyUpdate(1, u, UpdateOutcome{});
  const auto* entry = rib.locRib(pfx("2001:db8:1::/48"));
  REQUIRE(entry);
  CHECK(entry->bestRoute().attrs->mpReach->nextHop == addr("2001:db8::2"));
  CHECK(entry->bestRoute().attrs->mpReach->nlri.empty());
  // Exported to eBGP with our IPv6 address as next hop.
  CHECK(sentTo(rib, 2, "2001:db8:1::/48")->mpReach->nextHop == addr("2001:db8:ff::1"));

  UpdateOutcome disable;
  disable.raise(ErrorAction::kAfiSafiDisable, "test", {}, kIpv6Unicast);
  rib.applyUpdate(1, Update{}, disable);
  CHECK_FALSE(rib.locRib(pfx("2001:db8:1::/48")));
  CHECK(rib.locRib(pfx("192.0.2.0/24")));
}

TEST_CASE("applyUpdate merges AS4_PATH from a 2-octet peer") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  Update u;
  u.attributes = route({65002, kAsTrans});
  u.attributes.as4Path = AsPath{{AsSegmentType::kSequence, {4200000000u}}};
  u.nlri = {n("192.0.2.0/24")};
  rib.applyUpdate(1, u, UpdateOutcome{});
  CHECK(rib.locRib(pfx("192.0.2.0/24"))->bestRoute().attrs->asPath ==
        AsPath{{AsSegmentType::kSequence, {65002, 4200000000u}}});
}

TEST_CASE("a peer that goes away takes its routes with it; a new peer gets the whole table") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(2, 65003));
  rib.announce(1, n("192.0.2.0/24"), route({65002}));
  rib.originate(pfx("10.244.0.0/26"), PathAttributes{});
  rib.takeOutbound(2);
  rib.removePeer(1);
  CHECK_FALSE(rib.locRib(pfx("192.0.2.0/24")));
  CHECK(rib.takeOutbound(2).withdrawn == std::vector<NlriEntry>{n("192.0.2.0/24")});

  rib.addPeer(peer(3, 65004));
  const auto batch = rib.takeOutbound(3);
  REQUIRE(batch.announced.size() == 1);
  CHECK(batch.announced[0].second == std::vector<NlriEntry>{n("10.244.0.0/26")});
  CHECK(batch.announced[0].first->asPath == AsPath{{AsSegmentType::kSequence, {kLocalAs}}});
}

TEST_CASE("without an Adj-RIB-In, a departing peer's routes are still found and withdrawn") {
  auto config = rrConfig();
  config.keepAdjRibIn = false;
  Rib rib(config);
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(2, 65003));
  rib.announce(1, n("192.0.2.0/24"), route({65002}));
  rib.announce(2, n("192.0.2.0/24"), route({65003, 65004}));
  CHECK_FALSE(rib.adjRibIn(1));
  rib.removePeer(1);
  REQUIRE(rib.locRib(pfx("192.0.2.0/24")));
  CHECK(rib.locRib(pfx("192.0.2.0/24"))->bestRoute().peer == 2);
}

TEST_CASE("ROUTE-REFRESH re-queues the peer's Adj-RIB-Out for the family") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(2, 65003));
  rib.announce(1, n("192.0.2.0/24"), route({65002}));
  rib.takeOutbound(2);
  CHECK(rib.takeOutbound(2).empty());
  rib.refreshPeer(2, Afi::kIpv6);
  CHECK(rib.takeOutbound(2).empty());
  rib.refreshPeer(2, Afi::kIpv4);
  CHECK(rib.takeOutbound(2).announced.size() == 1);
}

TEST_CASE("changed prefixes are reported once for the FIB") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.announce(1, n("192.0.2.0/24"), route({65002}));
  rib.announce(1, n("192.0.2.0/24"), route({65002}));  // same again: no change
  CHECK(rib.takeChangedPrefixes() == std::vector<Prefix>{pfx("192.0.2.0/24")});
  CHECK(rib.takeChangedPrefixes().empty());
}

TEST_CASE("attribute sets are interned: many prefixes share one") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(2, 65003));
  const auto a = route({65002, 65010});
  for (std::uint32_t i = 0; i < 50000; ++i)
    rib.announce(1, NlriEntry{Prefix(Address::v4(0x0b000000 + (i << 8)), 24), 0}, a);
  CHECK(rib.locRibSize() == 50000);
  // The received set and the set exported to peer 2.
  CHECK(rib.attrStore().size() == 2);
  {
    const auto batch = rib.takeOutbound(2);
    REQUIRE(batch.announced.size() == 1);
    CHECK(batch.announced[0].second.size() == 50000);
  }
  rib.removePeer(1);
  rib.takeOutbound(2);
  CHECK(rib.attrStore().size() == 0);
}

// --- Update packing ------------------------------------------------------------------------

namespace {

// Decodes every packed UPDATE and checks it fits 4096 bytes.
std::vector<Update> roundTrip(const std::vector<Update>& updates, const CodecContext& ctx) {
  std::vector<Update> out;
  for (const auto& u : updates) {
    const auto bytes = encodeMessage(u, ctx);
    CHECK(bytes.size() <= kMaxMessageSize);
    const auto d = decodeMessage(bytes, ctx);
    REQUIRE(d.outcome.action == ErrorAction::kNone);
    out.push_back(std::get<Update>(*d.message));
  }
  return out;
}

}  // namespace

TEST_CASE("packing: prefixes sharing attributes share UPDATEs that fill 4096 bytes") {
  AttrStore store;
  OutboundBatch batch;
  std::vector<NlriEntry> routes;
  for (std::uint32_t i = 0; i < 2000; ++i)
    routes.push_back({Prefix(Address::v4(0x0b000000 + (i << 8)), 24), 0});
  batch.announced.emplace_back(store.intern(route({65001})), routes);
  const CodecContext ctx;
  const auto updates = packUpdates(batch, ctx);
  // 4096 - 23 - 18 bytes of attributes = 4055 bytes of 4-byte /24s: 1013 per UPDATE.
  CHECK(updates.size() == 2);
  CHECK(updates[0].nlri.size() == 1013);
  std::size_t total = 0;
  for (const auto& u : roundTrip(updates, ctx)) total += u.nlri.size();
  CHECK(total == 2000);
  CHECK(encodeMessage(updates[0], ctx).size() == 4096 - 1);  // one byte short of a whole /24
}

TEST_CASE("packing: different attribute sets go in different UPDATEs; withdrawals by family") {
  AttrStore store;
  OutboundBatch batch;
  batch.withdrawn = {n("10.1.0.0/16"), n("2001:db8:9::/48"), n("10.2.0.0/16")};
  batch.announced.emplace_back(store.intern(route({65001})), std::vector<NlriEntry>{n("192.0.2.0/24")});
  batch.announced.emplace_back(store.intern(route({65001, 65002})),
                               std::vector<NlriEntry>{n("198.51.100.0/24")});
  const CodecContext ctx;
  const auto updates = roundTrip(packUpdates(batch, ctx), ctx);
  REQUIRE(updates.size() == 3);
  // The IPv4 withdrawals share an UPDATE with the first IPv4 announcements.
  CHECK(updates[0].withdrawn == std::vector<NlriEntry>{n("10.1.0.0/16"), n("10.2.0.0/16")});
  CHECK(updates[0].nlri == std::vector<NlriEntry>{n("192.0.2.0/24")});
  CHECK(updates[1].attributes.mpUnreach->withdrawn == std::vector<NlriEntry>{n("2001:db8:9::/48")});
  CHECK(updates[2].attributes.asPath == AsPath{{AsSegmentType::kSequence, {65001, 65002}}});
  CHECK(updates[2].withdrawn.empty());
}

TEST_CASE("packing: a full withdrawal UPDATE takes no announcements; a part-full one fills up") {
  AttrStore store;
  std::vector<NlriEntry> announce, withdraw;
  for (std::uint32_t i = 0; i < 1500; ++i) {
    announce.push_back({Prefix(Address::v4(0x0b000000 + (i << 8)), 24), 0});
    withdraw.push_back({Prefix(Address::v4(0x0c000000 + (i << 8)), 24), 0});
  }
  OutboundBatch batch;
  batch.withdrawn = withdraw;
  batch.announced.emplace_back(store.intern(route({65001})), announce);
  const CodecContext ctx;
  const auto updates = roundTrip(packUpdates(batch, ctx), ctx);
  std::size_t withdrawn = 0, announced = 0;
  for (const auto& u : updates) {
    withdrawn += u.withdrawn.size();
    announced += u.nlri.size();
  }
  CHECK(withdrawn == 1500);
  CHECK(announced == 1500);
  // 3000 four-byte prefixes plus one 18-byte attribute set per announcing UPDATE: 3 UPDATEs.
  CHECK(updates.size() == 3);
  CHECK_FALSE(updates[1].withdrawn.empty());
  CHECK_FALSE(updates[1].nlri.empty());
}

TEST_CASE("packing: IPv6 prefixes ride in MP_REACH_NLRI and stay within 4096 bytes") {
  AttrStore store;
  auto a = route({65001});
  a.nextHop.reset();
  a.mpReach = MpReach{kIpv6Unicast, addr("2001:db8::1"), addr("fe80::1"), {}};
  std::vector<NlriEntry> routes;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    std::array<std::uint8_t, 16> b{
        0x20, 0x01, 0x0d, 0xb8, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
    routes.push_back({Prefix(Address::v6(b), 48), 0});
  }
  OutboundBatch batch;
  batch.announced.emplace_back(store.intern(a), routes);
  CodecContext ctx;
  const auto updates = roundTrip(packUpdates(batch, ctx), ctx);
  CHECK(updates.size() == 2);
  std::set<NlriEntry> seen;
  for (const auto& u : updates)
    for (const auto& e : u.attributes.mpReach->nlri) seen.insert(e);
  CHECK(seen.size() == 1000);
}

TEST_CASE("packing: ADD-PATH path identifiers count towards the size") {
  AttrStore store;
  std::vector<NlriEntry> routes;
  for (std::uint32_t i = 0; i < 1000; ++i)
    routes.push_back({Prefix(Address::v4(0x0b000000 + (i << 8)), 24), i + 1});
  OutboundBatch batch;
  batch.announced.emplace_back(store.intern(route({65001})), routes);
  CodecContext ctx;
  ctx.addPathIpv4 = true;
  const auto updates = roundTrip(packUpdates(batch, ctx), ctx);
  CHECK(updates.size() == 2);
  CHECK(updates[0].nlri.size() == 4055 / 8);
}

TEST_CASE("packing: a 2-octet AS peer gets AS_TRANS and AS4_PATH") {
  AttrStore store;
  OutboundBatch batch;
  batch.announced.emplace_back(store.intern(route({4200000000u})), std::vector<NlriEntry>{n("192.0.2.0/24")});
  CodecContext old;
  old.fourOctetAs = false;
  const auto updates = roundTrip(packUpdates(batch, old), old);
  REQUIRE(updates.size() == 1);
  CHECK(updates[0].attributes.asPath == AsPath{{AsSegmentType::kSequence, {kAsTrans}}});
  CHECK(updates[0].attributes.as4Path == AsPath{{AsSegmentType::kSequence, {4200000000u}}});
}

TEST_CASE("an eBGP route whose leftmost AS is not the peer's is refused, unless the peer is a route server") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  CHECK(rib.announce(1, n("192.0.2.0/24"), route({65009})) == ImportResult::kFirstAsMismatch);
  CHECK(rib.announce(1, n("192.0.2.0/24"), route({})) == ImportResult::kFirstAsMismatch);
  auto rs = peer(2, 65002);
  rs.enforceFirstAs = false;
  rib.addPeer(rs);
  CHECK(rib.announce(2, n("192.0.2.0/24"), route({65009})) == ImportResult::kAccepted);
}

TEST_CASE("graceful restart keeps a restarting peer's routes as stale until End-of-RIB (RFC 4724 §4.2)") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(2, 65003));
  rib.announce(1, n("192.0.2.0/24"), route({65002}));
  rib.announce(1, n("198.51.100.0/24"), route({65002}));
  rib.announce(1, n("2001:db8:1::/48"), [] {
    auto a = route({65002});
    a.nextHop.reset();
    a.mpReach = MpReach{kIpv6Unicast, addr("2001:db8::2"), std::nullopt, {}};
    return a;
  }());
  rib.takeOutbound(2);

  rib.markStale(1);
  CHECK(rib.staleCount(1) == 3);
  CHECK(rib.locRibSize() == 3);        // still forwarding
  CHECK(rib.takeOutbound(2).empty());  // and nothing withdrawn from others

  // The peer comes back and re-announces one IPv4 route, then sends End-of-RIB for IPv4.
  rib.addPeer(peer(1, 65002));
  rib.announce(1, n("192.0.2.0/24"), route({65002}));
  CHECK(rib.staleCount(1) == 2);
  rib.sweepStale(1, Afi::kIpv4);
  CHECK(rib.locRib(pfx("192.0.2.0/24")));
  CHECK_FALSE(rib.locRib(pfx("198.51.100.0/24")));
  CHECK(rib.locRib(pfx("2001:db8:1::/48")));  // IPv6 waits for its own End-of-RIB
  CHECK(rib.takeOutbound(2).withdrawn == std::vector<NlriEntry>{n("198.51.100.0/24")});
  rib.sweepStale(1, Afi::kIpv6);
  CHECK(rib.staleCount(1) == 0);
  CHECK(rib.locRibSize() == 1);
}

TEST_CASE("a restarting peer gets nothing while down, and the whole table when back") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(2, 65003));
  rib.markStale(2);
  rib.announce(1, n("192.0.2.0/24"), route({65002}));
  CHECK(rib.adjRibOut(2)->empty());
  rib.addPeer(peer(2, 65003));
  CHECK(rib.takeOutbound(2).announced.size() == 1);
}

TEST_CASE("applyUpdate: a disabled family does not excuse a treat-as-withdraw error for another") {
  // IPv4 disabled by a malformed MP_UNREACH, and a malformed ORIGIN: the IPv6 NLRI is withdrawn.
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  Update u;
  u.attributes = route({65002});
  u.attributes.mpReach = MpReach{kIpv6Unicast, addr("2001:db8::2"), std::nullopt, {n("2001:db8:1::/48")}};
  rib.applyUpdate(1, u, UpdateOutcome{});
  REQUIRE(rib.locRib(pfx("2001:db8:1::/48")));
  UpdateOutcome both;
  both.raise(ErrorAction::kTreatAsWithdraw, "ORIGIN");
  both.raise(ErrorAction::kAfiSafiDisable, "MP_UNREACH_NLRI", {}, kIpv4Unicast);
  CHECK(both.action == ErrorAction::kAfiSafiDisable);
  CHECK(both.treatAsWithdraw);
  rib.applyUpdate(1, u, both);
  CHECK_FALSE(rib.locRib(pfx("2001:db8:1::/48")));
}

TEST_CASE("applyUpdate: IPv4 in MP_REACH_NLRI is stored with a NEXT_HOP, so iBGP exports carry one") {
  Rib rib(rrConfig(true));
  rib.addPeer(peer(1, kLocalAs, true));
  rib.addPeer(peer(2, kLocalAs, true));
  Update u;
  u.attributes = route({});
  u.attributes.nextHop.reset();
  u.attributes.mpReach = MpReach{kIpv4Unicast, addr("10.0.0.7"), std::nullopt, {n("192.0.2.0/24")}};
  rib.applyUpdate(1, u, UpdateOutcome{});
  const auto out = sentTo(rib, 2, "192.0.2.0/24");
  REQUIRE(out);
  CHECK(out->nextHop == addr("10.0.0.7"));
  CHECK_FALSE(out->mpReach);
}

TEST_CASE("the attribute store shares equal sets and frees a set with its last handle") {
  AttrStore store;
  auto a = route({65001});
  auto b = route({65001});
  b.med = 5;
  {
    const Attrs x = store.intern(a);
    const Attrs y = store.intern(a);
    const Attrs z = store.intern(b);
    CHECK(x == y);
    CHECK_FALSE(x == z);
    CHECK(x.useCount() == 2);
    CHECK(store.size() == 2);
    Attrs moved = x;
    CHECK(x.useCount() == 3);
    moved = z;
    CHECK(x.useCount() == 2);
    CHECK(z.useCount() == 2);
  }
  CHECK(store.size() == 0);
}

TEST_CASE("an IPv6 next hop passed on unchanged loses its link-local part (RFC 2545 §3)") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(3, kLocalAs));
  Update u;
  u.attributes = route({65002});
  u.attributes.nextHop.reset();
  u.attributes.mpReach = MpReach{kIpv6Unicast, addr("2001:db8::2"), addr("fe80::2"), {n("2001:db8:1::/48")}};
  rib.applyUpdate(1, u, UpdateOutcome{});
  const auto out = sentTo(rib, 3, "2001:db8:1::/48");
  REQUIRE(out);
  CHECK(out->mpReach->nextHop == addr("2001:db8::2"));
  CHECK_FALSE(out->mpReach->linkLocal);
}

TEST_CASE("changed prefixes are taken in bounded chunks, oldest first, each once") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  for (std::uint32_t i = 0; i < 10; ++i)
    rib.announce(1, NlriEntry{Prefix(Address::v4(0x0b000000 + (i << 8)), 24), 0}, route({65002}));
  // Changed again before it was taken: still queued once.
  rib.announce(1, NlriEntry{Prefix(Address::v4(0x0b000000), 24), 0}, route({65002, 65009}));
  CHECK(rib.changedCount() == 10);
  auto first = rib.takeChangedPrefixes(4);
  REQUIRE(first.size() == 4);
  CHECK(first[0] == Prefix(Address::v4(0x0b000000), 24));
  CHECK(rib.changedCount() == 6);
  CHECK(rib.takeChangedPrefixes(100).size() == 6);
  CHECK(rib.takeChangedPrefixes().empty());
}

TEST_CASE("a withdrawn prefix stays queued for the FIB until taken, and can come back meanwhile") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.announce(1, n("192.0.2.0/24"), route({65002}));
  rib.takeChangedPrefixes();
  rib.withdraw(1, n("192.0.2.0/24"));
  CHECK_FALSE(rib.locRib(pfx("192.0.2.0/24")));
  CHECK(rib.locRibSize() == 0);
  std::size_t seen = 0;
  rib.forEachLocRib([&](const LocRibEntry&) { ++seen; });
  CHECK(seen == 0);
  SECTION("taken as a removal") {
    CHECK(rib.takeChangedPrefixes() == std::vector<Prefix>{pfx("192.0.2.0/24")});
    rib.announce(1, n("192.0.2.0/24"), route({65002}));
    CHECK(rib.locRib(pfx("192.0.2.0/24")));
    CHECK(rib.takeChangedPrefixes() == std::vector<Prefix>{pfx("192.0.2.0/24")});
  }
  SECTION("announced again before the FIB looked") {
    rib.announce(1, n("192.0.2.0/24"), route({65002}));
    CHECK(rib.locRibSize() == 1);
    CHECK(rib.takeChangedPrefixes() == std::vector<Prefix>{pfx("192.0.2.0/24")});
    CHECK(rib.locRib(pfx("192.0.2.0/24"))->bestRoute().peer == 1);
  }
}

TEST_CASE("Loc-RIB slots are reused after withdrawals and every prefix is still found") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  rib.addPeer(peer(2, 65003));
  const auto nth = [](std::uint32_t i) {
    return NlriEntry{Prefix(Address::v4(0x0c000000 + (i << 8)), 24), 0};
  };
  for (std::uint32_t i = 0; i < 10000; ++i) rib.announce(1, nth(i), route({65002}));
  for (std::uint32_t i = 0; i < 10000; i += 2) rib.withdraw(1, nth(i));
  rib.takeChangedPrefixes();
  for (std::uint32_t i = 10000; i < 15000; ++i) rib.announce(2, nth(i), route({65003}));
  CHECK(rib.locRibSize() == 10000);
  for (std::uint32_t i = 0; i < 15000; ++i) {
    const auto* e = rib.locRib(nth(i).prefix);
    const bool expected = i >= 10000 || i % 2 == 1;
    REQUIRE(static_cast<bool>(e) == expected);
    if (e) CHECK(e->prefix() == nth(i).prefix);
  }
}

TEST_CASE("ECMP candidates beyond the first live in the entry and go one by one") {
  Rib rib(rrConfig());
  for (PeerId id = 1; id <= 3; ++id) rib.addPeer(peer(id, 65002));
  for (PeerId id = 1; id <= 3; ++id) rib.announce(id, n("192.0.2.0/24"), route({65002, 65010}));
  const auto* entry = rib.locRib(pfx("192.0.2.0/24"));
  REQUIRE(entry);
  CHECK(entry->paths().size() == 3);
  CHECK(entry->multipath().size() == 3);
  rib.withdraw(1, n("192.0.2.0/24"));
  CHECK(rib.locRib(pfx("192.0.2.0/24"))->paths().size() == 2);
  rib.withdraw(3, n("192.0.2.0/24"));
  REQUIRE(rib.locRib(pfx("192.0.2.0/24")));
  CHECK(rib.locRib(pfx("192.0.2.0/24"))->paths().size() == 1);
  CHECK(rib.locRib(pfx("192.0.2.0/24"))->bestRoute().peer == 2);
  CHECK(rib.acceptedCount(2) == 1);
  CHECK(rib.acceptedCount(1) == 0);
}

TEST_CASE("a peer without an Adj-RIB-In still reports what it sent and what was accepted") {
  Rib rib(rrConfig());
  auto p = peer(1, 65002);
  p.keepAdjRibIn = false;
  rib.addPeer(p);
  rib.setImportFilter([](const PeerInfo&, const Prefix& prefix) { return prefix != pfx("198.51.100.0/24"); });
  Update u;
  u.attributes = route({65002});
  u.nlri = {n("192.0.2.0/24"), n("198.51.100.0/24"), n("203.0.113.0/24")};
  rib.applyUpdate(1, u, UpdateOutcome{});
  CHECK_FALSE(rib.adjRibIn(1));
  CHECK(rib.receivedCount(1) == 3);
  CHECK(rib.acceptedCount(1) == 2);
  CHECK_FALSE(rib.locRib(pfx("198.51.100.0/24")));
  rib.withdraw(1, n("198.51.100.0/24"));
  CHECK(rib.receivedCount(1) == 2);
  rib.withdraw(1, n("192.0.2.0/24"));
  CHECK(rib.receivedCount(1) == 1);
  CHECK(rib.acceptedCount(1) == 1);
  rib.removePeer(1);
  CHECK(rib.locRibSize() == 0);
}

TEST_CASE("the prefix filter and the attribute policy both apply, the filter first") {
  Rib rib(rrConfig());
  rib.addPeer(peer(1, 65002));
  int policyCalls = 0;
  rib.setImportFilter([](const PeerInfo&, const Prefix& prefix) { return prefix == pfx("192.0.2.0/24"); });
  rib.setImportPolicy([&](const PeerInfo&, const Prefix&, PathAttributes a) -> std::optional<PathAttributes> {
    ++policyCalls;
    a.med = 7;
    return a;
  });
  CHECK(rib.announce(1, n("198.51.100.0/24"), route({65002})) == ImportResult::kRejectedByPolicy);
  CHECK(rib.announce(1, n("192.0.2.0/24"), route({65002})) == ImportResult::kAccepted);
  CHECK(policyCalls == 1);
  CHECK(rib.locRib(pfx("192.0.2.0/24"))->bestRoute().attrs->med == 7u);
}

TEST_CASE(
    "the Loc-RIB table keeps IPv4 and IPv6 prefixes apart, reads each back whole, and reuses freed slots") {
  LocRibTable table;
  const std::vector<Prefix> prefixes{
      pfx("0.0.0.0/0"), pfx("10.0.0.0/8"),    pfx("10.0.0.0/9"),    pfx("255.255.255.255/32"),
      pfx("::/0"),      pfx("2001:db8::/32"), pfx("2001:db8::/48"), pfx("2001:db8::1/128"),
      pfx("a00::/8")};
  for (const auto& p : prefixes) CHECK(table.obtain(p).prefix() == p);
  for (const auto& p : prefixes) {
    const LocRibEntry* e = table.findAny(p);
    REQUIRE(e);
    CHECK(e->prefix() == p);
    CHECK(&table.obtain(p) == e);  // obtain finds, it does not make a second
    CHECK_FALSE(table.find(p));    // no path yet: not live
  }
  CHECK_FALSE(table.findAny(pfx("10.0.0.0/10")));
  CHECK_FALSE(table.findAny(pfx("::/1")));

  // Queued for the kernel without paths: taking them frees the slots, which new prefixes reuse.
  for (const auto& p : prefixes) table.markDirty(*table.findAny(p));
  table.markDirty(*table.findAny(prefixes[0]));  // once only
  CHECK(table.dirtyCount() == prefixes.size());
  CHECK(table.takeDirty(SIZE_MAX) == prefixes);
  for (const auto& p : prefixes) CHECK_FALSE(table.findAny(p));
  const Prefix v4 = pfx("192.0.2.0/24"), v6 = pfx("2001:db8:1::/64");
  CHECK(table.obtain(v6).prefix() == v6);
  CHECK(table.obtain(v4).prefix() == v4);
  CHECK(table.findAny(v4)->prefix() == v4);
  CHECK(table.findAny(v6)->prefix() == v6);
  CHECK_FALSE(table.findAny(prefixes[7]));
}
