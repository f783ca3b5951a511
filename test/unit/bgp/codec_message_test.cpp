// Wire vectors for every BGP message type, assembled by hand from the RFC 4271 §4 formats,
// and the header/OPEN errors of RFC 4271 §6.1-§6.2 with their exact NOTIFICATIONs.
#include "codec/message.hpp"
#include "hex.hpp"

#include <catch2/catch.hpp>

using namespace tartan::bgp;
using namespace tartan::bgp::test;

namespace {

const CodecContext kNew{};  // 4-octet AS, no ADD-PATH

Message decodeOk(const wire::Bytes& bytes, const CodecContext& ctx = kNew) {
  auto d = decodeMessage(bytes, ctx);
  INFO(d.outcome.reason);
  REQUIRE(d.outcome.action == ErrorAction::kNone);
  REQUIRE(d.message);
  return *d.message;
}

Notification decodeReset(const wire::Bytes& bytes, const CodecContext& ctx = kNew) {
  auto d = decodeMessage(bytes, ctx);
  REQUIRE(d.outcome.action == ErrorAction::kSessionReset);
  REQUIRE_FALSE(d.message);
  return d.outcome.notification;
}

}  // namespace

TEST_CASE("KEEPALIVE is a bare 19-byte header") {
  const auto bytes = hex("ffffffffffffffffffffffffffffffff 0013 04");
  CHECK(encodeMessage(Keepalive{}, kNew) == bytes);
  CHECK(std::holds_alternative<Keepalive>(decodeOk(bytes)));
}

TEST_CASE("OPEN with every capability we speak encodes and decodes byte for byte") {
  Open open;
  open.myAs = 65001;
  open.holdTime = 180;
  open.bgpId = 0x0a000001;
  open.capabilities = {
      MultiprotocolCap{kIpv4Unicast},
      MultiprotocolCap{kIpv6Unicast},
      RouteRefreshCap{},
      FourOctetAsCap{65001},
      GracefulRestartCap{false, false, 120, {{kIpv4Unicast, true}}},
      AddPathCap{{{kIpv4Unicast, AddPathMode::kBoth}}},
      UnknownCap{128, {}},  // pre-standard Cisco route refresh, kept as unknown
  };
  const auto bytes =
      hex("ffffffffffffffffffffffffffffffff 0043 01"
          "04 fde9 00b4 0a000001 26"
          "02 24"
          "01 04 0001 00 01"       // MP IPv4 unicast
          "01 04 0002 00 01"       // MP IPv6 unicast
          "02 00"                  // route refresh
          "41 04 0000fde9"         // 4-octet AS 65001
          "40 06 0078 0001 01 80"  // graceful restart, 120 s, IPv4 unicast forwarding preserved
          "45 04 0001 01 03"       // ADD-PATH IPv4 unicast send+receive
          "80 00");                // unknown capability 128
  CHECK(toHex(encodeMessage(open, kNew)) == toHex(bytes));
  CHECK(std::get<Open>(decodeOk(bytes)) == open);
}

TEST_CASE("OPEN capabilities split over several parameters decode to one list") {
  const auto bytes =
      message(MessageType::kOpen, "04 fde9 005a c0000201 10 02 06 01 04 0001 00 01 02 06 41 04 00010000");
  const auto open = std::get<Open>(decodeOk(bytes));
  CHECK(open.holdTime == 90);
  CHECK(open.bgpId == 0xc0000201);
  CHECK(multiprotocolFamilies(open.capabilities) == std::vector<AfiSafi>{kIpv4Unicast});
  CHECK(fourOctetAs(open.capabilities) == 65536u);
}

TEST_CASE("graceful restart capability keeps R and N bits, time and per-family flags") {
  const auto bytes =
      message(MessageType::kOpen, "04 fde9 005a 01020304 0e 02 0c 40 0a c0b4 0001 01 00 0002 01 80");
  const auto open = std::get<Open>(decodeOk(bytes));
  const auto* gr = gracefulRestart(open.capabilities);
  REQUIRE(gr);
  CHECK(gr->restarting);
  CHECK(gr->notification);
  CHECK(gr->restartTime == 180);
  REQUIRE(gr->families.size() == 2);
  CHECK_FALSE(gr->families[0].forwardingPreserved);
  CHECK(gr->families[1].family == kIpv6Unicast);
  CHECK(gr->families[1].forwardingPreserved);
  CHECK(encodeMessage(open, kNew) == bytes);
}

TEST_CASE("NOTIFICATION carries code, subcode and data") {
  const Notification n =
      Notification::make(ErrorCode::kCease, CeaseSubcode::kAdministrativeShutdown, hex("03 627965"));
  const auto bytes = hex("ffffffffffffffffffffffffffffffff 0019 03 06 02 03 627965");
  CHECK(encodeMessage(n, kNew) == bytes);
  CHECK(std::get<Notification>(decodeOk(bytes)) == n);
  CHECK(n.describe() == "Cease / Administrative Shutdown");
  CHECK(Notification::make(ErrorCode::kUpdateMessage, UpdateSubcode::kMalformedAsPath).describe() ==
        "UPDATE Message Error / Malformed AS_PATH");
}

TEST_CASE("ROUTE-REFRESH names AFI, subtype and SAFI") {
  const auto bytes = hex("ffffffffffffffffffffffffffffffff 0017 05 0002 00 01");
  CHECK(encodeMessage(RouteRefresh{2, 0, 1}, kNew) == bytes);
  CHECK(std::get<RouteRefresh>(decodeOk(bytes)) == RouteRefresh{2, 0, 1});
}

TEST_CASE("UPDATE with every IPv4 attribute encodes and decodes byte for byte") {
  Update u;
  u.withdrawn = {{pfx("10.1.0.0/16"), 0}};
  auto& a = u.attributes;
  a.origin = Origin::kIgp;
  a.asPath = AsPath{{AsSegmentType::kSequence, {65001, 65002}}};
  a.nextHop = addr("192.0.2.1");
  a.med = 100;
  a.localPref = 200;
  a.atomicAggregate = true;
  a.aggregator = Aggregator{65001, 0x0a000001};
  a.communities = std::vector<std::uint32_t>{community::kNoExport, (65001u << 16) | 100};
  a.originatorId = 0x0a000009;
  a.clusterList = std::vector<std::uint32_t>{0x01010101};
  a.largeCommunities = std::vector<LargeCommunity>{{65001, 1, 2}};
  a.unknown = {RawAttribute{0xc0, 99, {0xab}}};
  u.nlri = {{pfx("192.168.1.0/24"), 0}, {pfx("10.0.0.0/8"), 0}};
  const auto bytes = message(MessageType::kUpdate,
                             "0003 10 0a01"
                             "0060"
                             "40 01 01 00"
                             "40 02 0a 02 02 0000fde9 0000fdea"
                             "40 03 04 c0000201"
                             "80 04 04 00000064"
                             "40 05 04 000000c8"
                             "40 06 00"
                             "c0 07 08 0000fde9 0a000001"
                             "c0 08 08 ffffff01 fde90064"
                             "80 09 04 0a000009"
                             "80 0a 04 01010101"
                             "c0 20 0c 0000fde9 00000001 00000002"
                             "c0 63 01 ab"
                             "18 c0a801 08 0a");
  CHECK(toHex(encodeMessage(u, kNew)) == toHex(bytes));
  CHECK(std::get<Update>(decodeOk(bytes)) == u);
}

TEST_CASE("UPDATE for IPv6 puts MP_REACH_NLRI and MP_UNREACH_NLRI first, with a link-local next hop") {
  Update u;
  auto& a = u.attributes;
  a.origin = Origin::kIgp;
  a.asPath = AsPath{};
  a.mpReach = MpReach{kIpv6Unicast, addr("2001:db8::1"), addr("fe80::1"), {{pfx("2001:db8:1::/48"), 0}}};
  a.mpUnreach = MpUnreach{kIpv6Unicast, {{pfx("2001:db8:2::/48"), 0}}};
  const auto bytes =
      message(MessageType::kUpdate,
              "0000 0043"
              "80 0e 2c 0002 01 20 20010db8000000000000000000000001 fe800000000000000000000000000001"
              "   00 30 20010db80001"
              "80 0f 0a 0002 01 30 20010db80002"
              "40 01 01 00"
              "40 02 00");
  CHECK(toHex(encodeMessage(u, kNew)) == toHex(bytes));
  CHECK(std::get<Update>(decodeOk(bytes)) == u);
}

TEST_CASE("ADD-PATH puts a path identifier before each prefix when negotiated for the family") {
  CodecContext ctx;
  ctx.addPathIpv4 = true;
  Update u;
  u.withdrawn = {{pfx("10.9.0.0/16"), 7}};
  u.attributes.origin = Origin::kIncomplete;
  u.attributes.asPath = AsPath{};
  u.attributes.nextHop = addr("10.0.0.1");
  u.nlri = {{pfx("10.0.0.0/8"), 1}, {pfx("10.0.0.0/8"), 2}};
  const auto bytes = message(MessageType::kUpdate,
                             "0007 00000007 10 0a09"
                             "000e 40 01 01 02 40 02 00 40 03 04 0a000001"
                             "00000001 08 0a 00000002 08 0a");
  CHECK(toHex(encodeMessage(u, ctx)) == toHex(bytes));
  CHECK(std::get<Update>(decodeOk(bytes, ctx)) == u);
  // Without ADD-PATH the same bytes are nonsense prefixes: the NLRI field is malformed.
  CHECK(decodeMessage(bytes, kNew).outcome.action == ErrorAction::kSessionReset);
}

TEST_CASE("ADD-PATH applies to MP_REACH_NLRI of the negotiated family only") {
  CodecContext ctx;
  ctx.addPathIpv6 = true;
  Update u;
  u.attributes.origin = Origin::kIgp;
  u.attributes.asPath = AsPath{};
  u.attributes.mpReach =
      MpReach{kIpv6Unicast, addr("2001:db8::1"), std::nullopt, {{pfx("2001:db8::/32"), 5}}};
  const auto encoded = encodeMessage(u, ctx);
  CHECK(std::get<Update>(decodeOk(encoded, ctx)) == u);
  const auto expected = message(MessageType::kUpdate,
                                "0000 0028 80 0e 1e 0002 01 10 20010db8000000000000000000000001 00"
                                "00000005 20 20010db8 40 01 01 00 40 02 00");
  CHECK(toHex(encoded) == toHex(expected));
}

TEST_CASE("End-of-RIB markers are recognised per family (RFC 4724 §2)") {
  const auto v4 = std::get<Update>(decodeOk(message(MessageType::kUpdate, "0000 0000")));
  CHECK(endOfRib(v4) == kIpv4Unicast);
  const auto v6 = std::get<Update>(decodeOk(message(MessageType::kUpdate, "0000 0006 80 0f 03 0002 01")));
  CHECK(endOfRib(v6) == kIpv6Unicast);
  Update notEor;
  notEor.withdrawn = {{pfx("10.0.0.0/8"), 0}};
  CHECK_FALSE(endOfRib(notEor));
}

TEST_CASE("a 2-octet AS session reads 2-octet AS_PATH and AGGREGATOR") {
  CodecContext old;
  old.fourOctetAs = false;
  const auto bytes = updateWith(
      "40 01 01 00 40 02 06 02 02 fde9 5ba0 40 03 04 0a000001 c0 07 06 5ba0 0a000002"
      "c0 11 0a 02 02 fa56ea00 0000fde9 c0 12 08 fa56ea00 0a000002",
      "08 0a");
  const auto u = std::get<Update>(decodeOk(bytes, old));
  CHECK(u.attributes.asPath == AsPath{{AsSegmentType::kSequence, {65001, kAsTrans}}});
  CHECK(u.attributes.aggregator == Aggregator{kAsTrans, 0x0a000002});
  CHECK(u.attributes.as4Path == AsPath{{AsSegmentType::kSequence, {4200000000u, 65001}}});
  CHECK(encodeMessage(u, old) == bytes);
}

// --- RFC 4271 §6.1 header errors ------------------------------------------------------------

TEST_CASE("a marker that is not all ones is Connection Not Synchronized") {
  auto bytes = hex("ffffffffffffffffffffffffffffff00 0013 04");
  CHECK(decodeReset(bytes) ==
        Notification::make(ErrorCode::kMessageHeader, HeaderSubcode::kConnectionNotSynchronized));
}

TEST_CASE("lengths outside 19..4096 or wrong for the type are Bad Message Length with the length as data") {
  CHECK(decodeReset(hex("ffffffffffffffffffffffffffffffff 0012 04")) ==
        Notification::make(ErrorCode::kMessageHeader, HeaderSubcode::kBadMessageLength, hex("0012")));
  CHECK(frameMessage(hex("ffffffffffffffffffffffffffffffff 1001 02")).error ==
        Notification::make(ErrorCode::kMessageHeader, HeaderSubcode::kBadMessageLength, hex("1001")));
  CHECK(decodeReset(hex("ffffffffffffffffffffffffffffffff 0014 04 00")) ==
        Notification::make(ErrorCode::kMessageHeader, HeaderSubcode::kBadMessageLength, hex("0014")));
  CHECK(decodeReset(message(MessageType::kOpen, "04 fde9")) ==
        Notification::make(ErrorCode::kMessageHeader, HeaderSubcode::kBadMessageLength, hex("0016")));
}

TEST_CASE("an unknown message type is Bad Message Type with the type as data") {
  CHECK(decodeReset(hex("ffffffffffffffffffffffffffffffff 0013 06")) ==
        Notification::make(ErrorCode::kMessageHeader, HeaderSubcode::kBadMessageType, hex("06")));
}

TEST_CASE("framing waits for a whole message and then reports its length") {
  auto two = hex("ffffffffffffffffffffffffffffffff 0013 04 ffffffffffffffffffff");
  auto frame = frameMessage(two);
  CHECK(frame.status == Frame::Status::kComplete);
  CHECK(frame.length == 19);
  CHECK(frameMessage(wire::ByteView(two).subspan(19)).status == Frame::Status::kNeedMore);
}

TEST_CASE("OPEN errors of RFC 4271 §6.2 found by the codec") {
  SECTION("an optional parameter other than capabilities is Unsupported Optional Parameter") {
    CHECK(decodeReset(message(MessageType::kOpen, "04 fde9 005a 01020304 04 01 02 0000")) ==
          Notification::make(ErrorCode::kOpenMessage, OpenSubcode::kUnsupportedOptionalParameter));
  }
  SECTION("a parameter length past the end is unspecific") {
    CHECK(decodeReset(message(MessageType::kOpen, "04 fde9 005a 01020304 02 02 08")).subcode == 0);
  }
  SECTION("optional parameters length that disagrees with the message is unspecific") {
    CHECK(decodeReset(message(MessageType::kOpen, "04 fde9 005a 01020304 05 02 02 02 00")).code == 2);
  }
  SECTION("a malformed known capability is unspecific") {
    CHECK(decodeReset(message(MessageType::kOpen, "04 fde9 005a 01020304 07 02 05 01 03 0001 00")) ==
          Notification::make(ErrorCode::kOpenMessage, OpenSubcode::kUnspecific));
    CHECK(decodeReset(message(MessageType::kOpen, "04 fde9 005a 01020304 08 02 06 45 04 0001 01 07")).code ==
          2);
  }
}

TEST_CASE("ROUTE-REFRESH of the wrong length is Invalid Message Length with the message (RFC 7313 §5)") {
  const auto bytes = message(MessageType::kRouteRefresh, "0001 00 01 00");
  CHECK(decodeReset(bytes) == Notification(ErrorCode::kRouteRefresh, 1, bytes));
}

TEST_CASE("UPDATE length fields that overrun the message reset with Malformed Attribute List") {
  CHECK(decodeReset(message(MessageType::kUpdate, "0005 08 0a 0000")) ==
        Notification::make(ErrorCode::kUpdateMessage, UpdateSubcode::kMalformedAttributeList));
  CHECK(decodeReset(message(MessageType::kUpdate, "0000 0009 40 01 01 00")) ==
        Notification::make(ErrorCode::kUpdateMessage, UpdateSubcode::kMalformedAttributeList));
}

TEST_CASE("malformed IPv4 NLRI or withdrawn prefixes reset with Invalid Network Field (RFC 7606 §5.3)") {
  CHECK(decodeReset(updateWith("40 01 01 00 40 02 00 40 03 04 0a000001", "21 0a000000 00")) ==
        Notification::make(ErrorCode::kUpdateMessage, UpdateSubcode::kInvalidNetworkField));
  CHECK(decodeReset(updateWith("40 01 01 00 40 02 00 40 03 04 0a000001", "18 0a00")) ==
        Notification::make(ErrorCode::kUpdateMessage, UpdateSubcode::kInvalidNetworkField));
  CHECK(decodeReset(message(MessageType::kUpdate, "0002 10 0a 0000")) ==
        Notification::make(ErrorCode::kUpdateMessage, UpdateSubcode::kInvalidNetworkField));
}

// --- Captured messages ---------------------------------------------------------------------
// Bytes of messages captured from real sessions, as published with the dpkt packet library's BGP
// tests: a KEEPALIVE, an UPDATE from a 2-octet AS session, a VPNv4 UPDATE, and an OPEN.

TEST_CASE("captured UPDATE from a 2-octet AS session decodes and re-encodes byte for byte") {
  CodecContext old;
  old.fourOctetAs = false;
  const auto bytes =
      hex("ffffffffffffffffffffffffffffffff 0063 02 0000 0048"
          "40 01 01 00 40 02 0a 01 02 01f4 01f4 02 01 febb 40 03 04 c0a8000f 40 05 04 00000064 40 06 00"
          "c0 07 06 feba c0a8000a c0 08 0c febf0001 03160004 015400fa 80 09 04 c0a8000f 80 0a 04 c0a800fa"
          "16 c0a804");
  const auto u = std::get<Update>(decodeOk(bytes, old));
  const auto& a = u.attributes;
  CHECK(a.asPath == AsPath{{AsSegmentType::kSet, {500, 500}}, {AsSegmentType::kSequence, {65211}}});
  CHECK(a.nextHop == addr("192.168.0.15"));
  CHECK(a.localPref == 100u);
  CHECK(a.atomicAggregate);
  CHECK(a.aggregator == Aggregator{65210, 0xc0a8000a});
  CHECK(a.communities == std::vector<std::uint32_t>{0xfebf0001, 0x03160004, 0x015400fa});
  CHECK(a.originatorId == 0xc0a8000fu);
  CHECK(a.clusterList == std::vector<std::uint32_t>{0xc0a800fa});
  CHECK(u.nlri == std::vector<NlriEntry>{{pfx("192.168.4.0/22"), 0}});
  CHECK(encodeMessage(u, old) == bytes);
}

TEST_CASE("captured VPNv4 UPDATE: the family we do not speak is discarded, unknown attributes kept") {
  const auto bytes =
      hex("ffffffffffffffffffffffffffffffff 0079 02 0000 0062"
          "40 01 01 00 40 02 00 40 05 04 00000064 c0 10 08 0002012c0000012c"
          "c0 80 24 0000fde9 40 01 01 00 40 02 04 02 01 15b3 40 05 04 0000002c 80 09 04 16050505 80 0a 04 "
          "16050505"
          "90 0e 001e 0001 80 0c 0000000000000000 0c040404 00 60 187701 000001f4 000001f4 85");
  const auto d = decodeMessage(bytes, kNew);
  CHECK(d.outcome.action == ErrorAction::kAttributeDiscard);
  REQUIRE(d.message);
  const auto& a = std::get<Update>(*d.message).attributes;
  CHECK_FALSE(a.mpReach);
  REQUIRE(a.unknown.size() == 2);
  CHECK(a.unknown[0].type == 16);   // extended communities
  CHECK(a.unknown[1].type == 128);  // ATTR_SET
}

TEST_CASE("captured OPEN with one capability per parameter") {
  const auto bytes =
      hex("ffffffffffffffffffffffffffffffff 002d 01 04 00ed 005a c66e837d 10"
          "02 06 01 04 0001 0001 02 02 80 00 02 02 02 00");
  const auto open = std::get<Open>(decodeOk(bytes));
  CHECK(open.myAs == 237);
  CHECK(open.holdTime == 90);
  CHECK(open.bgpId == 0xc66e837d);
  CHECK(open.capabilities ==
        std::vector<Capability>{MultiprotocolCap{kIpv4Unicast}, UnknownCap{128, {}}, RouteRefreshCap{}});
  // Re-encoded, the capabilities share one parameter.
  CHECK(toHex(encodeMessage(open, kNew)) == toHex(hex("ffffffffffffffffffffffffffffffff 0029 01 04 00ed 005a "
                                                      "c66e837d 0c 02 0a 01 04 0001 0001 80 00 02 00")));
}
