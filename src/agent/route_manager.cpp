// Workload routes and interface sysctls: one dump, compare, fix.
#include "route_manager.hpp"

#include "tartan/netlink/route_sync.hpp"

#include <algorithm>

namespace tartan::agent {

void RouteManager::setEndpoint(const std::string& id, WorkloadRoutes routes) {
  auto& slot = endpoints_[id];
  if (slot == routes) return;
  slot = std::move(routes);
  dirty_ = true;
}

void RouteManager::removeEndpoint(const std::string& id) {
  if (endpoints_.erase(id) != 0) dirty_ = true;
}

bool ownsRoute(const netlink::Route& route, const HostSettings& host,
               const std::set<uint32_t>& workloadIfindexes) {
  constexpr uint8_t kProtocolKernel = 2, kProtocolBoot = 3;
  if (route.protocol == kProtocolKernel) return false;
  if (route.family() == netlink::Family::V6 && route.dst.address.bytes[0] == 0xfe &&
      (route.dst.address.bytes[1] & 0xc0) == 0x80)
    return false;  // fe80::/10: the kernel's, on every IPv6 interface
  if (route.protocol == netlink::kProtocolAgent ||
      (route.protocol == host.routeProtocol && host.routeProtocol != kProtocolBoot))
    return true;
  const bool toWorkload =
      route.nexthops.size() == 1 && workloadIfindexes.contains(route.nexthops.front().ifindex);
  return toWorkload && (host.removeExternalRoutes || route.protocol == host.routeProtocol);
}

std::set<netlink::IpAddress> RouteManager::takeReleasedAddresses() {
  std::map<netlink::IpAddress, std::string> now;
  for (const auto& [id, wep] : endpoints_) {
    for (const auto* nets : {&wep.ipv4Nets, &wep.ipv6Nets}) {
      for (const auto& net : *nets) {
        auto prefix = netlink::Prefix::parse(net);
        if (prefix && prefix->length == prefix->address.size() * 8) now[prefix->address] = wep.interfaceName;
      }
    }
  }
  std::set<netlink::IpAddress> released;
  for (const auto& [address, interface] : owners_) {
    auto it = now.find(address);
    if (it == now.end() || it->second != interface) released.insert(address);
  }
  owners_ = std::move(now);
  return released;
}

RouteSyncReport RouteManager::sync(netlink::RouteTable& routeTable, netlink::LinkTable& linkTable,
                                   netlink::InterfaceSysctls& sysctls, const HostSettings& host,
                                   std::chrono::steady_clock::time_point now) {
  RouteSyncReport report;
  dirty_ = false;
  auto links = linkTable.listLinks();
  if (!links) {
    report.errors.push_back(links.error());
    dirty_ = true;
    return report;
  }
  std::map<std::string, uint32_t> ifindex;
  // The interfaces whose routes the agent may own beyond its own protocols: endpoints' (added
  // below) and workload-prefixed ones past their grace period.
  std::set<uint32_t> workloadIfindexes;
  std::map<uint32_t, std::chrono::steady_clock::time_point> seen;
  for (const auto& link : *links) {
    ifindex[link.name] = link.ifindex;
    for (const auto& prefix : host.workloadPrefixes) {
      if (prefix.empty() || !link.name.starts_with(prefix)) continue;
      auto first = firstSeen_.find(link.ifindex);
      const auto since = first == firstSeen_.end() ? now : first->second;
      seen[link.ifindex] = since;
      if (now - since >= kExternalRouteGrace) workloadIfindexes.insert(link.ifindex);
    }
  }
  firstSeen_ = std::move(seen);

  std::vector<netlink::Route> desired;
  // Forwarding is a per-namespace switch: the per-interface `forwarding` below only makes an
  // interface behave as a router's (no SLAAC, router flag in NAs); packets are forwarded between
  // interfaces only with `all.forwarding` on (for IPv4 that is net.ipv4.ip_forward). With
  // ipForwarding Enabled, as Felix does, IPv4's is turned on at once and IPv6's once the node has
  // an IPv6 workload; both are checked again at every sync. Disabled: neither is touched.
  if (host.ipForwarding) {
    const bool anyIpv6 = std::any_of(endpoints_.begin(), endpoints_.end(),
                                     [](const auto& entry) { return !entry.second.ipv6Nets.empty(); });
    for (auto tree : {netlink::SysctlTree::Ipv4Conf, netlink::SysctlTree::Ipv6Conf}) {
      if (tree == netlink::SysctlTree::Ipv6Conf && !anyIpv6) continue;
      if (auto on = sysctls.ensure(tree, "all", "forwarding", "1"); !on) report.errors.push_back(on.error());
    }
  }
  for (const auto& [id, wep] : endpoints_) {
    auto it = ifindex.find(wep.interfaceName);
    if (it == ifindex.end()) {
      ++report.missingInterfaces;
      continue;
    }
    for (const auto* nets : {&wep.ipv4Nets, &wep.ipv6Nets}) {
      for (const auto& net : *nets) {
        auto prefix = netlink::Prefix::parse(net);
        if (!prefix) {
          report.errors.push_back(makeError("endpoint " + id, "ipNets", prefix.error().toString()));
          continue;
        }
        auto route = netlink::Route::toInterface(*prefix, it->second, host.routeProtocol);
        route.prefsrc = prefix->family() == netlink::Family::V4 ? host.routeSourceV4 : host.routeSourceV6;
        desired.push_back(std::move(route));
        workloadIfindexes.insert(it->second);  // an endpoint's interface is a workload's, whatever its name
      }
    }
    // Sysctls once per interface incarnation; a veth re-created under the same name has a new
    // ifindex and starts with the kernel's defaults again.
    if (auto done = configured_.find(wep.interfaceName);
        done == configured_.end() || done->second != it->second) {
      auto applied = netlink::applySysctls(
          sysctls, netlink::workloadInterfaceSysctls(wep.interfaceName, !wep.ipv4Nets.empty(),
                                                     !wep.ipv6Nets.empty(), host.rpFilter));
      if (applied) {
        configured_[wep.interfaceName] = it->second;
        ++report.sysctlsApplied;
      } else {
        report.errors.push_back(applied.error());
      }
    }
  }
  // Forget interfaces that are gone, so a new one of that name is configured again.
  std::erase_if(configured_, [&](const auto& entry) { return !ifindex.contains(entry.first); });

  report.routes = desired.size();
  netlink::SyncScope scope{netlink::kTableMain, host.routeProtocol, {}};
  scope.owns = [&](const netlink::Route& route) { return ownsRoute(route, host, workloadIfindexes); };
  auto synced = netlink::syncRoutes(routeTable, scope, desired);
  if (!synced) {
    report.errors.push_back(synced.error());
  } else {
    report.changes = synced->added + synced->replaced + synced->deleted;
    for (const auto& f : synced->failures) report.errors.push_back(f.error);
  }
  if (!report.errors.empty() || report.missingInterfaces != 0) dirty_ = true;
  return report;
}

}  // namespace tartan::agent
