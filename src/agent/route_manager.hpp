// src/agent/route_manager.hpp — /32 and /128 routes to this node's workloads, and the sysctls of
// their interfaces, as Felix's route and endpoint managers keep them.
//
// The iptables driver owns chains and sets only; this is the agent's other half of the dataplane.
// It learns local endpoints from the same WorkloadEndpointUpdate/Remove messages the driver gets
// (translated by the dataplane loop, so no protobuf here), and sync() makes the kernel match:
// one link dump to find each interface, one route dump compared with what is wanted (only the
// routes ownsRoute() calls ours: deviceRouteProtocol's, Tartan's own 116, and with
// removeExternalRoutes any other route to a workload interface), the difference applied, then
// forwarding/proxy_arp/proxy_delay/rp_filter ensured on each interface seen for the first time (or again,
// when its ifindex changed: a new veth of the same name), and IPv6 forwarding for the whole namespace
// (net.ipv6.conf.all.forwarding) once there is an IPv6 workload. An endpoint whose interface does not exist
// yet (CNI still creating it) gets its route at a later sync: the dataplane loop calls sync() again on link
// events and periodically. It also keeps which interface owns each workload address, so that the dataplane
// loop can have the conntrack state of an address that was released (its endpoint removed, the address
// dropped from it, or handed to another interface) deleted, as Felix does. Threading: one thread (the
// dataplane loop). Failure: sync() returns the errors it met and tries everything anyway; the next sync
// retries.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/netlink/netlink.hpp"
#include "tartan/netlink/sysctl.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tartan::agent {

struct WorkloadRoutes {
  std::string interfaceName;
  std::vector<std::string> ipv4Nets;  // "10.65.0.2/32"
  std::vector<std::string> ipv6Nets;
  bool operator==(const WorkloadRoutes&) const = default;
};

struct RouteSyncReport {
  size_t routes = 0;  // wanted routes whose interface exists
  size_t missingInterfaces = 0;
  size_t changes = 0;         // routes added, replaced or deleted
  size_t sysctlsApplied = 0;  // interfaces configured this time
  std::vector<Error> errors;
};

// What the node's own settings should be, from the agent's configuration.
struct HostSettings {
  std::string rpFilter = "1";  // rp_filter of workload interfaces
  bool ipForwarding = true;    // net.ipv4.conf.all.forwarding, and IPv6's once an IPv6 workload is here
  // Felix's deviceRouteProtocol (Tartan's default: its own 116), deviceRouteSourceAddress(IPv6)
  // (the src of workload routes; empty: none) and removeExternalRoutes.
  uint8_t routeProtocol = netlink::kProtocolAgent;
  std::optional<netlink::IpAddress> routeSourceV4, routeSourceV6;
  bool removeExternalRoutes = true;
  std::vector<std::string> workloadPrefixes{"cali"};
};

// Which routes of the main table the agent owns, as Felix's main-table ownership policy: routes
// of Tartan's own protocol 116 and of a configured protocol other than boot (3, which `ip route
// add` uses too) anywhere; on a workload interface, every route when removeExternalRoutes is
// true, else those of the configured protocol. Routes the kernel makes for addresses (protocol
// kernel) and IPv6 link-local ones are never ours. `workloadIfindexes` are the workload
// interfaces' indexes.
bool ownsRoute(const netlink::Route& route, const HostSettings& host,
               const std::set<uint32_t>& workloadIfindexes);

class RouteManager {
 public:
  void setEndpoint(const std::string& id, WorkloadRoutes routes);
  void removeEndpoint(const std::string& id);
  bool dirty() const { return dirty_; }
  void markDirty() { dirty_ = true; }

  // A workload interface no endpoint claims yet (CNI has made the veth and its route, the
  // endpoint is on its way) keeps routes that are not the agent's for this long after it was
  // first seen, as Felix's route cleanup grace period, so removeExternalRoutes does not cut a new
  // pod off before its endpoint arrives.
  static constexpr std::chrono::seconds kExternalRouteGrace{10};

  RouteSyncReport sync(netlink::RouteTable& routes, netlink::LinkTable& links,
                       netlink::InterfaceSysctls& sysctls, const HostSettings& host,
                       std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  // The host addresses (of /32 and /128 nets) that some endpoint's interface owned at the last
  // call and that no endpoint, or another interface, owns now. The first call releases nothing.
  std::set<netlink::IpAddress> takeReleasedAddresses();

 private:
  std::map<netlink::IpAddress, std::string> owners_;  // address -> interface, at the last take
  std::map<std::string, WorkloadRoutes> endpoints_;
  std::map<std::string, uint32_t> configured_;  // interface -> ifindex whose sysctls are set
  std::map<uint32_t, std::chrono::steady_clock::time_point> firstSeen_;  // workload interfaces
  bool dirty_ = true;
};

}  // namespace tartan::agent
