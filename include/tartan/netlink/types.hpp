// tartan/netlink/types.hpp — the values the netlink module speaks in: addresses, prefixes,
// routes, links, interface addresses and route changes.
//
// Plain values with no kernel handles, so that the pure parts (codec, route diff) and the fakes
// use them as freely as the socket does. Numeric fields keep the kernel's own numbering
// (RTN_*, RT_SCOPE_*, RTPROT_*) so nothing is lost in translation.
#pragma once

#include <tartan/common/result.hpp>

#include <array>
#include <compare>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::netlink {

// Route protocol numbers (rtm_protocol) that mark routes as Tartan's. A route sync only ever
// touches routes of the protocol it is given, so these separate Tartan's routes from those of
// the kernel, of DHCP, of an operator's `ip route add` (boot) and of other routing daemons.
// Neither number is reserved in iproute2's rt_protos.
inline constexpr uint8_t kProtocolAgent = 116;  // /32 routes to local workloads
inline constexpr uint8_t kProtocolBgp = 117;    // routes learned over BGP, blackholes for own blocks

inline constexpr uint32_t kTableMain = 254;   // RT_TABLE_MAIN
inline constexpr uint32_t kTableLocal = 255;  // RT_TABLE_LOCAL

enum class Family : uint8_t { V4 = 2, V6 = 10 };  // AF_INET, AF_INET6

struct IpAddress {
  Family family = Family::V4;
  std::array<uint8_t, 16> bytes{};  // network order; only the first size() bytes are used

  size_t size() const { return family == Family::V4 ? 4 : 16; }
  // "10.0.0.1", "fd00::1".
  static Result<IpAddress> parse(std::string_view text);
  std::string toString() const;

  auto operator<=>(const IpAddress&) const = default;
  bool operator==(const IpAddress&) const = default;
};

struct Prefix {
  IpAddress address;  // host bits are zero once normalised by parse()
  uint8_t length = 0;

  // "10.65.0.0/26"; a bare address is a host prefix. Host bits set is an error.
  static Result<Prefix> parse(std::string_view text);
  std::string toString() const;
  Family family() const { return address.family; }

  auto operator<=>(const Prefix&) const = default;
  bool operator==(const Prefix&) const = default;
};

// rtm_type
enum class RouteType : uint8_t {
  Unicast = 1,
  Local = 2,
  Broadcast = 3,
  Anycast = 4,
  Multicast = 5,
  Blackhole = 6,
  Unreachable = 7,
  Prohibit = 8,
  Throw = 9,
};

// rtm_scope
enum class RouteScope : uint8_t { Universe = 0, Site = 200, Link = 253, Host = 254, Nowhere = 255 };

// One path of a route. A route with one nexthop is sent as RTA_GATEWAY/RTA_OIF, a route with more
// as RTA_MULTIPATH (ECMP).
struct Nexthop {
  std::optional<IpAddress> gateway;
  uint32_t ifindex = 0;  // 0: let the kernel pick the interface from the gateway
  uint8_t weight = 1;    // rtnh_hops + 1; only meaningful in ECMP

  auto operator<=>(const Nexthop&) const = default;
  bool operator==(const Nexthop&) const = default;
};

struct Route {
  Prefix dst;
  uint32_t table = kTableMain;
  uint8_t protocol = 3;  // RTPROT_BOOT, as `ip route add` uses
  RouteScope scope = RouteScope::Universe;
  RouteType type = RouteType::Unicast;
  uint32_t priority = 0;  // metric; 0 means "kernel default" (0 for IPv4, 1024 for IPv6)
  std::optional<IpAddress> prefsrc;
  std::vector<Nexthop> nexthops;

  Family family() const { return dst.family(); }

  // The common shapes, with the scope `ip route` would give them.
  static Route toInterface(Prefix dst, uint32_t ifindex, uint8_t protocol);  // scope link
  static Route via(Prefix dst, IpAddress gateway, uint8_t protocol, uint32_t ifindex = 0);
  static Route ecmp(Prefix dst, std::vector<Nexthop> nexthops, uint8_t protocol);
  static Route blackhole(Prefix dst, uint8_t protocol);

  // "10.65.0.0/26 table 254 proto 117 via 10.0.0.1 dev #3" for logs and errors.
  std::string toString() const;

  bool operator==(const Route&) const = default;
};

// What identifies a route in the kernel: a second route with the same key replaces the first
// (NLM_F_REPLACE) or is refused (NLM_F_EXCL). The metric is part of it: IPv4 keeps (dst, tos,
// priority) per table, IPv6 (dst, src, metric). Tartan sets no TOS and no IPv6 source routes.
struct RouteKey {
  Family family = Family::V4;
  uint32_t table = kTableMain;
  Prefix dst;
  uint32_t priority = 0;  // effective: IPv6's 0 is 1024

  auto operator<=>(const RouteKey&) const = default;
  bool operator==(const RouteKey&) const = default;
};
RouteKey keyOf(const Route& route);
uint32_t effectivePriority(const Route& route);

// True when the kernel's route `have` already forwards as the wanted route `want` asks: same
// type, scope (IPv4 only: IPv6 always reports universe), preferred source and set of nexthops
// (in any order; a wanted interface 0 matches the one the kernel resolved; nexthops do not count
// for blackhole and the like, where IPv6 reports its loopback).
bool sameForwarding(const Route& want, const Route& have);

enum class RouteOp : uint8_t { Add, Replace, Delete };
std::string_view toString(RouteOp op);

struct RouteChange {
  RouteOp op = RouteOp::Add;
  Route route;
  bool operator==(const RouteChange&) const = default;
};

struct Link {
  uint32_t ifindex = 0;
  std::string name;
  bool up = false;       // IFF_UP: administratively up
  bool running = false;  // IFF_RUNNING: operationally up (carrier)
  uint32_t flags = 0;    // all IFF_* flags
  uint32_t mtu = 0;
  std::vector<uint8_t> mac;  // IFLA_ADDRESS, empty if none (e.g. a tunnel without L2)
  std::string kind;          // IFLA_INFO_KIND: "veth", "vxlan", "bridge"; empty for physical/lo

  bool operator==(const Link&) const = default;
};

struct InterfaceAddress {
  uint32_t ifindex = 0;
  Prefix prefix;  // the address with its prefix length (host bits kept)
  RouteScope scope = RouteScope::Universe;

  bool operator==(const InterfaceAddress&) const = default;
};

// "02:42:ac:11:00:02".
std::string macToString(const std::vector<uint8_t>& mac);

// For logs and test failure messages.
std::ostream& operator<<(std::ostream& os, const IpAddress& address);
std::ostream& operator<<(std::ostream& os, const Prefix& prefix);
std::ostream& operator<<(std::ostream& os, const Route& route);
std::ostream& operator<<(std::ostream& os, const RouteChange& change);
std::ostream& operator<<(std::ostream& os, const Link& link);
std::ostream& operator<<(std::ostream& os, const InterfaceAddress& address);

}  // namespace tartan::netlink
