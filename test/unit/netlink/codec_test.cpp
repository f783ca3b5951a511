// The rtnetlink codec, byte for byte: requests are compared with hand-laid-out kernel structs
// (linux/rtnetlink.h), replies are built the way the kernel builds them, and every truncation of
// a valid message must come back as an error, never a read out of bounds (ASan watches).
#include <tartan/netlink/codec.hpp>

#include <catch2/catch.hpp>

#include <cstring>

using namespace tartan::netlink;

namespace {

Prefix prefix(const char* text) { return Prefix::parse(text).value(); }
IpAddress ip(const char* text) { return IpAddress::parse(text).value(); }

using Bytes = std::vector<uint8_t>;

void le16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
void le32(Bytes& b, uint32_t v) {
  le16(b, static_cast<uint16_t>(v));
  le16(b, static_cast<uint16_t>(v >> 16));
}
void attr(Bytes& b, uint16_t type, const Bytes& data) {
  le16(b, static_cast<uint16_t>(4 + data.size()));
  le16(b, type);
  b.insert(b.end(), data.begin(), data.end());
  while (b.size() % 4) b.push_back(0);
}
Bytes u32(uint32_t v) {
  Bytes b;
  le32(b, v);
  return b;
}
// A whole message: header then body, with nlmsg_len filled in.
Bytes message(uint16_t type, uint16_t flags, uint32_t seq, const Bytes& body) {
  Bytes b;
  le32(b, static_cast<uint32_t>(16 + body.size()));
  le16(b, type);
  le16(b, flags);
  le32(b, seq);
  le32(b, 0);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}
Bytes rtmsg(uint8_t family, uint8_t dstLen, uint8_t table, uint8_t protocol, uint8_t scope, uint8_t type) {
  return Bytes{family, dstLen, 0, 0, table, protocol, scope, type, 0, 0, 0, 0};
}

Route decodeOnly(const Bytes& bytes) {
  auto messages = splitMessages(bytes).value();
  REQUIRE(messages.size() == 1);
  return decodeRoute(messages[0].payload).value();
}

}  // namespace

TEST_CASE("an IPv4 route via a gateway encodes as rtmsg + RTA_DST, RTA_GATEWAY, RTA_OIF") {
  Bytes out;
  encodeRouteChange(out, {RouteOp::Add, Route::via(prefix("10.65.0.0/26"), ip("10.0.0.1"), 117, 3)}, 7);
  Bytes body = rtmsg(2, 26, 254, 117, 0, 1);
  attr(body, 1, {10, 65, 0, 0});
  attr(body, 5, {10, 0, 0, 1});
  attr(body, 4, u32(3));
  // NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE, as `ip route add` sends
  CHECK(out == message(24, 0x605, 7, body));
}

TEST_CASE("replace sends NLM_F_CREATE|NLM_F_REPLACE; without ack only NLM_F_REQUEST is set") {
  Bytes out;
  Route route = Route::toInterface(prefix("10.65.1.7/32"), 9, kProtocolAgent);
  encodeRouteChange(out, {RouteOp::Replace, route}, 1, false);
  Bytes body = rtmsg(2, 32, 254, kProtocolAgent, 253, 1);
  attr(body, 1, {10, 65, 1, 7});
  attr(body, 4, u32(9));
  CHECK(out == message(24, 0x501, 1, body));
}

TEST_CASE("a table above 255 goes in RTA_TABLE with rtm_table unspecified, as iproute2 does") {
  Bytes out;
  Route route = Route::blackhole(prefix("10.66.0.0/26"), 117);
  route.table = 1000;
  route.priority = 20;
  encodeRouteChange(out, {RouteOp::Add, route}, 2);
  Bytes body = rtmsg(2, 26, 0, 117, 0, 6);
  attr(body, 1, {10, 66, 0, 0});
  attr(body, 15, u32(1000));
  attr(body, 6, u32(20));
  CHECK(out == message(24, 0x605, 2, body));
  CHECK(decodeOnly(out) == route);
}

TEST_CASE("a delete names key and protocol with scope NOWHERE and no nexthops") {
  Bytes out;
  Route route = Route::via(prefix("10.65.0.0/26"), ip("10.0.0.1"), 117, 3);
  encodeRouteChange(out, {RouteOp::Delete, route}, 3);
  Bytes body = rtmsg(2, 26, 254, 117, 255, 1);
  attr(body, 1, {10, 65, 0, 0});
  CHECK(out == message(25, 0x005, 3, body));
}

TEST_CASE("ECMP goes in RTA_MULTIPATH: rtnexthop with hops = weight-1, gateway nested") {
  Bytes out;
  Route route =
      Route::ecmp(prefix("fd00:10::/64"), {Nexthop{ip("fe80::1"), 4, 1}, Nexthop{ip("fe80::2"), 5, 3}}, 117);
  encodeRouteChange(out, {RouteOp::Replace, route}, 9);
  Bytes body = rtmsg(10, 64, 254, 117, 0, 1);
  attr(body, 1, {0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  Bytes hops;
  auto hop = [&](uint8_t hopsField, uint32_t ifindex, uint8_t last) {
    Bytes h{28, 0, 0, hopsField};  // rtnh_len = 8 + 20, flags 0
    le32(h, ifindex);
    attr(h, 5, {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last});
    hops.insert(hops.end(), h.begin(), h.end());
  };
  hop(0, 4, 1);
  hop(2, 5, 2);
  attr(body, 9, hops);
  CHECK(out == message(24, 0x505, 9, body));
  CHECK(decodeOnly(out) == route);
}

TEST_CASE("route messages round-trip through encode and decode") {
  std::vector<Route> routes;
  routes.push_back(Route::via(prefix("0.0.0.0/0"), ip("192.168.1.1"), 4));
  routes.push_back(Route::blackhole(prefix("2001:db8::/48"), kProtocolBgp));
  Route unreachable = Route::blackhole(prefix("10.0.0.0/8"), 4);
  unreachable.type = RouteType::Unreachable;
  routes.push_back(unreachable);
  Route local = Route::toInterface(prefix("10.1.2.3/32"), 1, 2);
  local.type = RouteType::Local;
  local.scope = RouteScope::Host;
  local.table = kTableLocal;
  local.prefsrc = ip("10.1.2.3");
  routes.push_back(local);
  routes.push_back(
      Route::ecmp(prefix("10.9.0.0/16"),
                  {Nexthop{ip("10.0.0.1"), 2, 1}, Nexthop{ip("10.0.0.2"), 3, 1}, Nexthop{std::nullopt, 4, 7}},
                  kProtocolBgp));
  for (const Route& route : routes) {
    Bytes out;
    encodeRouteChange(out, {RouteOp::Add, route}, 1);
    CHECK(decodeOnly(out) == route);
  }
}

TEST_CASE("decodeRoute reads what the kernel adds: RTA_TABLE wins, unknown attributes skipped") {
  Bytes body = rtmsg(10, 128, 252 /* RT_TABLE_COMPAT */, 117, 0, 1);
  attr(body, 15, u32(5000));
  attr(body, 1, Bytes(16, 0x20));
  attr(body, 12, Bytes(16, 0));  // RTA_CACHEINFO
  attr(body, 20, {1});           // RTA_PREF
  attr(body, 6, u32(1024));
  auto route = decodeRoute(body).value();
  CHECK(route.table == 5000);
  CHECK(route.priority == 1024);
  CHECK(route.dst.length == 128);
  CHECK(route.nexthops.empty());
}

TEST_CASE("decodeRoute rejects what does not add up") {
  struct Case {
    const char* name;
    Bytes body;
  };
  Bytes wrongDst = rtmsg(2, 24, 254, 2, 0, 1);
  attr(wrongDst, 1, Bytes(16, 1));  // an IPv6-sized RTA_DST in an IPv4 route
  Bytes missingDst = rtmsg(2, 24, 254, 2, 0, 1);
  Bytes longPrefix = rtmsg(2, 33, 254, 2, 0, 1);
  attr(longPrefix, 1, Bytes(4, 1));
  Bytes badFamily = rtmsg(7, 0, 254, 2, 0, 1);
  Bytes shortTable = rtmsg(2, 0, 254, 2, 0, 1);
  attr(shortTable, 15, {1, 2});
  Bytes overlongAttr = rtmsg(2, 0, 254, 2, 0, 1);
  le16(overlongAttr, 200);
  le16(overlongAttr, 1);
  Bytes badMultipath = rtmsg(2, 0, 254, 2, 0, 1);
  attr(badMultipath, 9, {40, 0, 0, 0, 1, 0, 0, 0});  // rtnh_len past the attribute
  for (const Case& c :
       {Case{"wrong RTA_DST size", wrongDst}, Case{"missing RTA_DST", missingDst},
        Case{"prefix longer than 32", longPrefix}, Case{"family 7", badFamily},
        Case{"2-byte RTA_TABLE", shortTable}, Case{"attribute past the end", overlongAttr},
        Case{"rtnexthop past the end", badMultipath}, Case{"rtmsg truncated", Bytes{2, 24, 0}}}) {
    INFO(c.name);
    CHECK_FALSE(decodeRoute(c.body));
  }
}

TEST_CASE("every truncation of a valid message is an error or a shorter valid message") {
  Bytes out;
  encodeRouteChange(out,
                    {RouteOp::Add, Route::ecmp(prefix("10.9.0.0/16"),
                                               {Nexthop{ip("10.0.0.1"), 2, 1}, Nexthop{ip("10.0.0.2"), 3, 1}},
                                               kProtocolBgp)},
                    1);
  for (size_t cut = 0; cut < out.size(); ++cut) {
    Bytes truncated(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(cut));
    CHECK((cut == 0) == splitMessages(truncated).has_value());
    // The payload cut short, with a header that agrees: the decoder must notice on its own.
    if (cut >= 16) {
      std::span<const uint8_t> payload(truncated.data() + 16, cut - 16);
      auto route = decodeRoute(payload);
      if (route) CHECK(route->nexthops.size() <= 2);
    }
  }
}

TEST_CASE("splitMessages walks several aligned messages and rejects a bad nlmsg_len") {
  Bytes datagram;
  encodeBarrier(datagram, 5);
  encodeRouteDump(datagram, Family::V6, 6);
  encodeLinkDump(datagram, 7);
  encodeAddressDump(datagram, std::nullopt, 8);
  auto messages = splitMessages(datagram).value();
  REQUIRE(messages.size() == 4);
  CHECK(messages[0].type == kNlmsgNoop);
  CHECK(messages[0].flags == 0x5);
  CHECK(messages[1].type == kRtmGetRoute);
  CHECK(messages[1].flags == 0x301);
  CHECK(messages[1].payload.size() == 12);
  CHECK(messages[1].payload[0] == 10);
  CHECK(messages[2].type == kRtmGetLink);
  CHECK(messages[2].payload.size() == 16);
  CHECK(messages[3].type == kRtmGetAddr);
  CHECK(messages[3].seq == 8);

  Bytes bad = datagram;
  bad[0] = 15;  // shorter than a header
  CHECK_FALSE(splitMessages(bad).has_value());
  bad[0] = 0xff;  // longer than the datagram
  CHECK_FALSE(splitMessages(bad).has_value());
}

TEST_CASE("a link lookup by name is RTM_GETLINK with a NUL-terminated IFLA_IFNAME") {
  Bytes out;
  encodeLinkGet(out, "tart0", 4);
  Bytes body(16, 0);
  attr(body, 3, {'t', 'a', 'r', 't', '0', 0});
  CHECK(out == message(18, 0x1, 4, body));
}

TEST_CASE("a link message gives index, name, flags, mtu, mac and kind") {
  Bytes body{0, 0, 1, 0};  // AF_UNSPEC, pad, ARPHRD_ETHER
  le32(body, 12);          // ifindex
  le32(body, 0x1 | 0x2 | 0x40 | 0x1000);
  le32(body, 0);
  attr(body, 3, {'t', 'a', 'r', 't', '0', 0});
  attr(body, 4, u32(1450));
  attr(body, 1, {0xee, 0xee, 0xee, 0xee, 0xee, 0x01});
  Bytes kind;
  attr(kind, 1, {'v', 'e', 't', 'h', 0});
  attr(body, 18, kind);
  auto link = decodeLink(body).value();
  CHECK(link.ifindex == 12);
  CHECK(link.name == "tart0");
  CHECK(link.up);
  CHECK(link.running);
  CHECK(link.mtu == 1450);
  CHECK(macToString(link.mac) == "ee:ee:ee:ee:ee:01");
  CHECK(link.kind == "veth");

  Bytes noName(body.begin(), body.begin() + 16);
  CHECK_FALSE(decodeLink(noName));
  CHECK_FALSE(decodeLink(Bytes(body.begin(), body.begin() + 10)));
}

TEST_CASE("an address message prefers IFA_LOCAL over the peer's IFA_ADDRESS") {
  Bytes body{2, 24, 0, 0};
  le32(body, 3);
  attr(body, 1, {10, 0, 0, 9});
  attr(body, 2, {10, 0, 0, 2});
  auto address = decodeAddress(body).value();
  CHECK(address.ifindex == 3);
  CHECK(address.prefix.toString() == "10.0.0.2/24");

  Bytes v6{10, 64, 0, 253};
  le32(v6, 4);
  attr(v6, 1, {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
  CHECK(decodeAddress(v6).value().prefix.toString() == "fe80::7/64");
  CHECK(decodeAddress(v6).value().scope == RouteScope::Link);
}

TEST_CASE("an error ack gives errno, the request's sequence and the extended-ack text") {
  Bytes body;
  le32(body, static_cast<uint32_t>(-17));  // -EEXIST
  Bytes request;                           // the request header, capped
  le32(request, 52);
  le16(request, 24);
  le16(request, 0x605);
  le32(request, 77);
  le32(request, 0);
  body.insert(body.end(), request.begin(), request.end());
  attr(body, 1, {'N', 'o', 'p', 'e', 0});
  auto ack = decodeAck(body, 0x100 | 0x200).value();
  CHECK(ack.error == 17);
  CHECK(ack.requestSeq == 77);
  CHECK(ack.requestType == 24);
  CHECK(ack.message == "Nope");
  // Not capped: the kernel says the request is 52 bytes long, but only its header is here.
  CHECK_FALSE(decodeAck(body, 0x200).has_value());
  CHECK_FALSE(decodeAck(Bytes(body.begin(), body.begin() + 10), 0).has_value());
}
