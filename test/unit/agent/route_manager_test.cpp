// Workload routes and interface sysctls against the in-memory netlink fakes.
#include "route_manager.hpp"
#include "support/fake_netlink.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <set>

using namespace tartan;
using agent::RouteManager;
using agent::WorkloadRoutes;
using netlink::SysctlTree;

namespace {

netlink::Link link(uint32_t index, const std::string& name) {
  netlink::Link l;
  l.ifindex = index;
  l.name = name;
  l.up = l.running = true;
  return l;
}

std::vector<std::string> agentRoutes(const test::FakeNetlink& nl) {
  std::vector<std::string> out;
  for (const auto& [key, route] : nl.routes()) {
    if (route.protocol == netlink::kProtocolAgent) out.push_back(route.toString());
  }
  return out;
}

struct Fixture {
  test::FakeNetlink nl;
  test::FakeSysctls sysctls;
  RouteManager routes;
  Fixture() {
    nl.addLink(link(1, "lo"));
    nl.addLink(link(5, "tartaaaa"));
    sysctls.addInterface("tartaaaa");
    sysctls.addInterface("all");  // the namespace-wide switches
  }
  agent::RouteSyncReport sync(bool ipForwarding = true) {
    agent::HostSettings host;
    host.ipForwarding = ipForwarding;
    host.workloadPrefixes = {"tart"};
    return sync(host);
  }
  agent::RouteSyncReport sync(const agent::HostSettings& host) { return routes.sync(nl, nl, sysctls, host); }
};

}  // namespace

TEST_CASE("a local workload gets a /32 to its interface and Calico's interface sysctls") {
  Fixture f;
  f.routes.setEndpoint("k8s/shop/db/eth0", WorkloadRoutes{"tartaaaa", {"10.65.0.2/32"}, {}});
  const auto report = f.sync();
  CHECK(report.errors.empty());
  CHECK(report.routes == 1);
  CHECK(report.sysctlsApplied == 1);
  const auto routes = agentRoutes(f.nl);
  REQUIRE(routes.size() == 1);
  CHECK(routes[0].find("10.65.0.2/32") != std::string::npos);
  CHECK(routes[0].find("#5") != std::string::npos);
  CHECK(*f.sysctls.get(SysctlTree::Ipv4Conf, "tartaaaa", "forwarding") == "1");
  CHECK(*f.sysctls.get(SysctlTree::Ipv4Conf, "tartaaaa", "proxy_arp") == "1");
  CHECK(*f.sysctls.get(SysctlTree::Ipv4Neigh, "tartaaaa", "proxy_delay") == "0");
  CHECK(*f.sysctls.get(SysctlTree::Ipv4Conf, "tartaaaa", "rp_filter") == "1");
  CHECK_FALSE(f.routes.dirty());
}

TEST_CASE("a second sync with nothing changed writes nothing") {
  Fixture f;
  f.routes.setEndpoint("e", WorkloadRoutes{"tartaaaa", {"10.65.0.2/32"}, {}});
  f.sync();
  const size_t writes = f.sysctls.writes();
  const auto report = f.sync();
  CHECK(report.changes == 0);
  CHECK(report.sysctlsApplied == 0);
  CHECK(f.sysctls.writes() == writes);
  CHECK(f.nl.history().size() == 1);
}

TEST_CASE("with removeExternalRoutes false, routes of other protocols are never touched; ours go") {
  Fixture f;
  agent::HostSettings keep;
  keep.workloadPrefixes = {"tart"};
  keep.removeExternalRoutes = false;
  auto sync = [&] { return f.sync(keep); };
  netlink::Route foreign = netlink::Route::toInterface(*netlink::Prefix::parse("10.65.0.9/32"), 5, 3);
  f.nl.seedRoute(foreign);
  f.nl.seedRoute(
      netlink::Route::toInterface(*netlink::Prefix::parse("10.65.0.7/32"), 5, netlink::kProtocolAgent));
  f.routes.setEndpoint("e", WorkloadRoutes{"tartaaaa", {"10.65.0.2/32"}, {}});
  sync();
  const auto routes = agentRoutes(f.nl);
  REQUIRE(routes.size() == 1);
  CHECK(routes[0].find("10.65.0.2/32") != std::string::npos);
  CHECK(f.nl.routes().contains(netlink::keyOf(foreign)));
  f.routes.removeEndpoint("e");
  CHECK(f.routes.dirty());
  sync();
  CHECK(agentRoutes(f.nl).empty());
  CHECK(f.nl.routes().contains(netlink::keyOf(foreign)));
}

TEST_CASE("an endpoint whose interface is not there yet stays dirty and is routed once it appears") {
  Fixture f;
  f.routes.setEndpoint("e", WorkloadRoutes{"tartbbbb", {"10.65.0.3/32"}, {}});
  auto report = f.sync();
  CHECK(report.missingInterfaces == 1);
  CHECK(agentRoutes(f.nl).empty());
  CHECK(f.routes.dirty());
  f.nl.addLink(link(6, "tartbbbb"));
  f.sysctls.addInterface("tartbbbb");
  report = f.sync();
  CHECK(report.missingInterfaces == 0);
  CHECK(agentRoutes(f.nl).size() == 1);
  CHECK(*f.sysctls.get(SysctlTree::Ipv4Conf, "tartbbbb", "proxy_arp") == "1");
}

TEST_CASE("IPv6 addresses get /128 routes and the IPv6 sysctls") {
  Fixture f;
  f.routes.setEndpoint("e", WorkloadRoutes{"tartaaaa", {"10.65.0.2/32"}, {"fd00::2/128"}});
  f.sync();
  CHECK(agentRoutes(f.nl).size() == 2);
  CHECK(*f.sysctls.get(SysctlTree::Ipv6Conf, "tartaaaa", "proxy_ndp") == "1");
}

TEST_CASE(
    "ipForwarding: Enabled turns the node's IPv4 forwarding on, IPv6's once an IPv6 workload is here; "
    "Disabled touches neither") {
  Fixture f;
  f.routes.setEndpoint("k8s/shop/db/eth0", WorkloadRoutes{"tartaaaa", {"10.65.0.2/32"}, {}});
  SECTION("Enabled") {
    CHECK(f.sync().errors.empty());
    CHECK(*f.sysctls.get(SysctlTree::Ipv4Conf, "all", "forwarding") == "1");
    CHECK(*f.sysctls.get(SysctlTree::Ipv6Conf, "all", "forwarding") == "0");
    f.routes.setEndpoint("k8s/shop/db/eth0",
                         WorkloadRoutes{"tartaaaa", {"10.65.0.2/32"}, {"fd00:65::2/128"}});
    CHECK(f.sync().errors.empty());
    CHECK(*f.sysctls.get(SysctlTree::Ipv6Conf, "all", "forwarding") == "1");
    // Someone turns it off behind the agent's back: the next sync turns it on again.
    REQUIRE(f.sysctls.set(SysctlTree::Ipv4Conf, "all", "forwarding", "0"));
    f.routes.markDirty();
    f.sync();
    CHECK(*f.sysctls.get(SysctlTree::Ipv4Conf, "all", "forwarding") == "1");
  }
  SECTION("Disabled") {
    f.routes.setEndpoint("k8s/shop/db/eth0",
                         WorkloadRoutes{"tartaaaa", {"10.65.0.2/32"}, {"fd00:65::2/128"}});
    CHECK(f.sync(false).errors.empty());
    CHECK(*f.sysctls.get(SysctlTree::Ipv4Conf, "all", "forwarding") == "0");
    CHECK(*f.sysctls.get(SysctlTree::Ipv6Conf, "all", "forwarding") == "0");
    CHECK(agentRoutes(f.nl).size() == 2);  // the workload's routes as ever
  }
}

TEST_CASE("addresses an endpoint releases are handed out once, for their conntrack state to go") {
  auto ip = [](const char* text) { return *netlink::IpAddress::parse(text); };
  using Released = std::set<netlink::IpAddress>;
  struct Step {
    const char* what;
    std::function<void(RouteManager&)> change;
    Released released;
  };
  const Step steps[] = {
      {"the first look releases nothing, even with endpoints there",
       [](RouteManager& r) {
         r.setEndpoint("a", WorkloadRoutes{"tarta", {"10.65.0.2/32"}, {"fd00::2/128"}});
         r.setEndpoint("b", WorkloadRoutes{"tartb", {"10.65.0.3/32"}, {}});
       },
       {}},
      {"nothing changed: nothing released", [](RouteManager&) {}, {}},
      {"an endpoint removed releases all its addresses, both families",
       [](RouteManager& r) { r.removeEndpoint("a"); },
       {ip("10.65.0.2"), ip("fd00::2")}},
      {"released once only", [](RouteManager&) {}, {}},
      {"an address dropped from an endpoint is released; one added is not",
       [](RouteManager& r) {
         r.setEndpoint("b", WorkloadRoutes{"tartb", {"10.65.0.4/32"}, {}});
       },
       {ip("10.65.0.3")}},
      {"an address handed to another interface (a new pod) is released from the old one",
       [](RouteManager& r) {
         r.removeEndpoint("b");
         r.setEndpoint("c", WorkloadRoutes{"tartc", {"10.65.0.4/32"}, {}});
       },
       {ip("10.65.0.4")}},
      {"the same endpoint updated in place keeps its address",
       [](RouteManager& r) {
         r.setEndpoint("c", WorkloadRoutes{"tartc", {"10.65.0.4/32", "10.65.0.9/32"}, {}});
       },
       {}},
      {"a net wider than one address is no workload address of its own",
       [](RouteManager& r) {
         r.setEndpoint("d", WorkloadRoutes{"tartd", {"10.65.1.0/30"}, {}});
       },
       {}},
      {"... nor released", [](RouteManager& r) { r.removeEndpoint("d"); }, {}},
  };
  RouteManager routes;
  for (const Step& step : steps) {
    INFO(step.what);
    step.change(routes);
    CHECK(routes.takeReleasedAddresses() == step.released);
  }
}

TEST_CASE("which routes of the main table are the agent's, as Felix's ownership policy") {
  const auto p = [](const char* text) { return *netlink::Prefix::parse(text); };
  const std::set<uint32_t> workloads{5};
  struct Case {
    const char* what;
    netlink::Route route;
    uint8_t protocol;  // deviceRouteProtocol
    bool removeExternal;
    bool ours;
  };
  const Case cases[] = {
      {"Tartan's own protocol, anywhere", netlink::Route::toInterface(p("10.0.0.1/32"), 9, 116), 116, true,
       true},
      {"116 stays ours after deviceRouteProtocol moves (to clean up)",
       netlink::Route::toInterface(p("10.0.0.1/32"), 9, 116), 80, false, true},
      {"a configured protocol other than boot, anywhere", netlink::Route::blackhole(p("10.0.0.0/24"), 80), 80,
       false, true},
      {"boot is shared with `ip route add`: not ours off workload interfaces",
       netlink::Route::toInterface(p("10.0.0.1/32"), 9, 3), 3, true, false},
      {"boot configured: ours on a workload interface", netlink::Route::toInterface(p("10.65.0.9/32"), 5, 3),
       3, false, true},
      {"anyone's route to a workload interface, with removeExternalRoutes",
       netlink::Route::toInterface(p("10.65.0.9/32"), 5, 3), 116, true, true},
      {"... left alone without it", netlink::Route::toInterface(p("10.65.0.9/32"), 5, 3), 116, false, false},
      {"another protocol off workload interfaces is never ours",
       netlink::Route::toInterface(p("10.0.0.1/32"), 9, 117), 116, true, false},
      {"the kernel's routes for addresses are never ours",
       netlink::Route::toInterface(p("10.65.0.0/24"), 5, 2), 116, true, false},
      {"IPv6 link-local on a workload interface is the kernel's",
       netlink::Route::toInterface(p("fe80::/64"), 5, 3), 116, true, false},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    agent::HostSettings host;
    host.routeProtocol = c.protocol;
    host.removeExternalRoutes = c.removeExternal;
    CHECK(agent::ownsRoute(c.route, host, workloads) == c.ours);
  }
}

TEST_CASE("deviceRouteProtocol and deviceRouteSourceAddress(IPv6) shape workload routes, changed in place") {
  Fixture f;
  f.routes.setEndpoint("e", WorkloadRoutes{"tartaaaa", {"10.65.0.2/32"}, {"fd00::2/128"}});
  netlink::Route external = netlink::Route::toInterface(*netlink::Prefix::parse("10.99.0.5/32"), 5, 3);
  f.nl.seedRoute(external);
  REQUIRE(f.sync().errors.empty());
  CHECK(!f.nl.routes().contains(netlink::keyOf(external)));  // removeExternalRoutes (true)
  agent::HostSettings host;
  host.workloadPrefixes = {"tart"};
  host.routeProtocol = 80;
  host.routeSourceV4 = *netlink::IpAddress::parse("192.0.2.10");
  host.routeSourceV6 = *netlink::IpAddress::parse("2001:db8::10");
  const auto report = f.sync(host);
  CHECK(report.errors.empty());
  CHECK(report.changes == 2);  // both replaced, none added or deleted
  std::vector<std::string> shown;
  for (const auto& [key, route] : f.nl.routes()) shown.push_back(route.toString());
  CHECK(shown == std::vector<std::string>{"10.65.0.2/32 table 254 proto 80 src 192.0.2.10 dev #5",
                                          "fd00::2/128 table 254 proto 80 src 2001:db8::10 dev #5"});
  CHECK(f.sync(host).changes == 0);
}

TEST_CASE("a workload interface no endpoint claims yet keeps its routes for the grace period") {
  Fixture f;  // tartaaaa (#5) exists, no endpoint on it: CNI made it, its endpoint is on its way
  netlink::Route cni = netlink::Route::toInterface(*netlink::Prefix::parse("10.65.0.2/32"), 5, 3);
  f.nl.seedRoute(cni);
  agent::HostSettings host;
  host.workloadPrefixes = {"tart"};
  const auto start = std::chrono::steady_clock::now();
  f.routes.sync(f.nl, f.nl, f.sysctls, host, start);
  CHECK(f.nl.routes().contains(netlink::keyOf(cni)));
  f.routes.sync(f.nl, f.nl, f.sysctls, host,
                start + RouteManager::kExternalRouteGrace - std::chrono::seconds(1));
  CHECK(f.nl.routes().contains(netlink::keyOf(cni)));
  // Its endpoint arrives within the grace: the route is replaced by the agent's at once.
  f.routes.setEndpoint("e", WorkloadRoutes{"tartaaaa", {"10.65.0.2/32"}, {}});
  f.routes.sync(f.nl, f.nl, f.sysctls, host, start + std::chrono::seconds(2));
  REQUIRE(f.nl.routes().contains(netlink::keyOf(cni)));
  CHECK(f.nl.routes().at(netlink::keyOf(cni)).protocol == netlink::kProtocolAgent);
  // No endpoint ever came: past the grace, removeExternalRoutes takes the route away.
  f.routes.removeEndpoint("e");
  f.nl.seedRoute(netlink::Route::toInterface(*netlink::Prefix::parse("10.65.0.9/32"), 5, 3));
  f.routes.sync(f.nl, f.nl, f.sysctls, host, start + RouteManager::kExternalRouteGrace);
  CHECK(f.nl.routes().empty());
}
