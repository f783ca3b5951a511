#include <tartan/netlink/types.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ostream>
#include <tuple>

namespace tartan::netlink {

Result<IpAddress> IpAddress::parse(std::string_view text) {
  std::string copy(text);
  IpAddress address;
  if (copy.find(':') != std::string::npos) {
    address.family = Family::V6;
    if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) return address;
  } else {
    address.family = Family::V4;
    if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) return address;
  }
  return makeError("", "", "not an IP address: '" + copy + "'");
}

std::string IpAddress::toString() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == Family::V4 ? AF_INET : AF_INET6, bytes.data(), buffer, sizeof buffer);
  return buffer;
}

Result<Prefix> Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return address.error();
  Prefix prefix{*address, static_cast<uint8_t>(address->size() * 8)};
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    unsigned length = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
        length > address->size() * 8)
      return makeError("", "", "bad prefix length in '" + std::string(text) + "'");
    prefix.length = static_cast<uint8_t>(length);
  }
  for (size_t bit = prefix.length; bit < prefix.address.size() * 8; ++bit) {
    if (prefix.address.bytes[bit / 8] & (0x80u >> (bit % 8)))
      return makeError("", "", "host bits set in prefix '" + std::string(text) + "'");
  }
  return prefix;
}

std::string Prefix::toString() const { return address.toString() + "/" + std::to_string(length); }

Route Route::toInterface(Prefix dst, uint32_t ifindex, uint8_t protocol) {
  Route route;
  route.dst = dst;
  route.protocol = protocol;
  route.scope = RouteScope::Link;
  route.nexthops.push_back(Nexthop{std::nullopt, ifindex, 1});
  return route;
}

Route Route::via(Prefix dst, IpAddress gateway, uint8_t protocol, uint32_t ifindex) {
  Route route;
  route.dst = dst;
  route.protocol = protocol;
  route.nexthops.push_back(Nexthop{gateway, ifindex, 1});
  return route;
}

Route Route::ecmp(Prefix dst, std::vector<Nexthop> nexthops, uint8_t protocol) {
  Route route;
  route.dst = dst;
  route.protocol = protocol;
  route.nexthops = std::move(nexthops);
  return route;
}

Route Route::blackhole(Prefix dst, uint8_t protocol) {
  Route route;
  route.dst = dst;
  route.protocol = protocol;
  route.type = RouteType::Blackhole;
  return route;
}

std::string Route::toString() const {
  std::string out;
  switch (type) {
    case RouteType::Unicast:
      break;
    case RouteType::Blackhole:
      out += "blackhole ";
      break;
    case RouteType::Unreachable:
      out += "unreachable ";
      break;
    case RouteType::Prohibit:
      out += "prohibit ";
      break;
    case RouteType::Local:
      out += "local ";
      break;
    default:
      out += "type " + std::to_string(static_cast<int>(type)) + " ";
      break;
  }
  out += dst.toString();
  out += " table " + std::to_string(table) + " proto " + std::to_string(protocol);
  if (priority != 0) out += " metric " + std::to_string(priority);
  if (prefsrc) out += " src " + prefsrc->toString();
  for (const Nexthop& hop : nexthops) {
    if (nexthops.size() > 1) out += " nexthop";
    if (hop.gateway) out += " via " + hop.gateway->toString();
    if (hop.ifindex != 0) out += " dev #" + std::to_string(hop.ifindex);
    if (nexthops.size() > 1 && hop.weight != 1) out += " weight " + std::to_string(hop.weight);
  }
  return out;
}

uint32_t effectivePriority(const Route& route) {
  if (route.priority == 0 && route.family() == Family::V6) return 1024;  // IP6_RT_PRIO_USER
  return route.priority;
}

RouteKey keyOf(const Route& route) {
  return RouteKey{route.family(), route.table, route.dst, effectivePriority(route)};
}

bool sameForwarding(const Route& want, const Route& have) {
  // IPv6 routes are always reported with universe scope, whatever was asked.
  bool scopeMatters = want.family() == Family::V4;
  if (want.type != have.type || (scopeMatters && want.scope != have.scope) || want.prefsrc != have.prefsrc)
    return false;
  if (want.type != RouteType::Unicast && want.type != RouteType::Local) return true;
  if (want.nexthops.size() != have.nexthops.size()) return false;
  // Interface 0 means "resolve from the gateway": the kernel reports what it resolved.
  auto sameHop = [multipath = want.nexthops.size() > 1](const Nexthop& a, const Nexthop& b) {
    return a.gateway == b.gateway && (a.ifindex == 0 || b.ifindex == 0 || a.ifindex == b.ifindex) &&
           (!multipath || a.weight == b.weight);  // one path carries no weight
  };
  if (want.nexthops.size() == 1) return sameHop(want.nexthops[0], have.nexthops[0]);
  auto byGateway = [](const Nexthop& a, const Nexthop& b) {
    return std::tie(a.gateway, a.ifindex, a.weight) < std::tie(b.gateway, b.ifindex, b.weight);
  };
  std::vector<Nexthop> left = want.nexthops;
  std::vector<Nexthop> right = have.nexthops;
  std::sort(left.begin(), left.end(), byGateway);
  std::sort(right.begin(), right.end(), byGateway);
  for (size_t i = 0; i < left.size(); ++i) {
    if (!sameHop(left[i], right[i])) return false;
  }
  return true;
}

std::string_view toString(RouteOp op) {
  switch (op) {
    case RouteOp::Add:
      return "add";
    case RouteOp::Replace:
      return "replace";
    case RouteOp::Delete:
      return "delete";
  }
  return "?";
}

std::string macToString(const std::vector<uint8_t>& mac) {
  std::string out;
  char part[4];
  for (size_t i = 0; i < mac.size(); ++i) {
    std::snprintf(part, sizeof part, i == 0 ? "%02x" : ":%02x", mac[i]);
    out += part;
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const IpAddress& address) { return os << address.toString(); }
std::ostream& operator<<(std::ostream& os, const Prefix& prefix) { return os << prefix.toString(); }
std::ostream& operator<<(std::ostream& os, const Route& route) { return os << route.toString(); }
std::ostream& operator<<(std::ostream& os, const RouteChange& change) {
  return os << toString(change.op) << " " << change.route.toString();
}
std::ostream& operator<<(std::ostream& os, const Link& link) {
  return os << "#" << link.ifindex << " " << link.name << (link.up ? " up" : " down") << " mtu " << link.mtu
            << (link.kind.empty() ? "" : " kind " + link.kind);
}
std::ostream& operator<<(std::ostream& os, const InterfaceAddress& address) {
  return os << address.prefix.toString() << " dev #" << address.ifindex;
}

}  // namespace tartan::netlink
