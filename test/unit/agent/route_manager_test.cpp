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
    return routes.sync(nl, nl, sysctls, {"1", ipForwarding});
  }
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

TEST_CASE("routes of other protocols are never touched; our stale routes are removed") {
  Fixture f;
  netlink::Route foreign = netlink::Route::toInterface(*netlink::Prefix::parse("10.65.0.9/32"), 5, 3);
  f.nl.seedRoute(foreign);
  f.nl.seedRoute(
      netlink::Route::toInterface(*netlink::Prefix::parse("10.65.0.7/32"), 5, netlink::kProtocolAgent));
  f.routes.setEndpoint("e", WorkloadRoutes{"tartaaaa", {"10.65.0.2/32"}, {}});
  f.sync();
  const auto routes = agentRoutes(f.nl);
  REQUIRE(routes.size() == 1);
  CHECK(routes[0].find("10.65.0.2/32") != std::string::npos);
  CHECK(f.nl.routes().contains(netlink::keyOf(foreign)));
  f.routes.removeEndpoint("e");
  CHECK(f.routes.dirty());
  f.sync();
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
