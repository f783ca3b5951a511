// tartan::netlink against the real kernel, always inside namespaces of the test's own: links and
// addresses, route add/replace/delete (ECMP, blackhole, big tables, our protocol) checked against
// `ip route`, error mapping, reconcile that prunes only our routes, the monitor, sysctls, and a
// timed batch of 10k routes.
#include <tartan/netlink/netlink.hpp>
#include <tartan/netlink/route_sync.hpp>
#include <tartan/netlink/sysctl.hpp>

#include "support/netns.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

using namespace tartan::netlink;
using tartan::test::EnterNamespace;
using tartan::test::NetNamespace;

namespace {

// Not silent: a run without root says loudly that this suite proved nothing.
#define REQUIRE_NET_ADMIN()                                                              \
  do {                                                                                   \
    if (!tartan::test::haveNetAdmin()) {                                                 \
      WARN(                                                                              \
          "SKIPPED: kernel_netlink needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to create " \
          "network namespaces; nothing was tested against the kernel");                  \
      return;                                                                            \
    }                                                                                    \
  } while (false)

Prefix prefix(const char* text) { return Prefix::parse(text).value(); }
IpAddress ip(const char* text) { return IpAddress::parse(text).value(); }

// A namespace with a veth pair v0/v1 (both ends inside) and addresses on v0, and a Netlink
// opened inside it. The Netlink stays bound to the namespace after the thread has left it.
struct Node {
  NetNamespace ns{"nl"};
  std::unique_ptr<Netlink> netlink;
  uint32_t v0 = 0;
  uint32_t v1 = 0;

  Node() {
    ns.execOrThrow(
        "ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up && "
        "ip addr add 10.0.0.2/24 dev v0 && ip -6 addr add fd00::2/64 dev v0 nodad");
    {
      EnterNamespace enter(ns);
      netlink = Netlink::open().value();
    }
    // Before any change: prove the socket is in the test namespace and not the host's.
    v0 = netlink->linkByName("v0").value().ifindex;
    v1 = netlink->linkByName("v1").value().ifindex;
  }

  // `ip route` in JSON, reduced to one comparable line per route.
  std::vector<std::string> ipRoutes(const std::string& options) const {
    auto json = nlohmann::json::parse(ns.execOrThrow("ip -j " + options));
    std::vector<std::string> lines;
    for (const auto& entry : json) {
      std::string dst = entry.at("dst").get<std::string>();
      if (dst == "default") dst = options.find("-6") != std::string::npos ? "::/0" : "0.0.0.0/0";
      if (dst.find('/') == std::string::npos) dst += dst.find(':') != std::string::npos ? "/128" : "/32";
      std::string type = entry.value("type", "unicast");
      std::string line = type + " " + dst;
      if (type == "unicast") {
        std::vector<std::string> hops;
        auto hop = [&](const nlohmann::json& h) {
          return h.value("gateway", "-") + "@" + h.value("dev", "-") + "*" +
                 std::to_string(h.value("weight", 1));
        };
        if (entry.contains("nexthops")) {
          for (const auto& h : entry["nexthops"]) hops.push_back(hop(h));
        } else {
          hops.push_back(hop(entry));
        }
        std::sort(hops.begin(), hops.end());
        for (const auto& h : hops) line += " " + h;
      }
      lines.push_back(line);
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }

  // The same reduction of what Netlink::listRoutes decoded.
  std::vector<std::string> ourRoutes(const RouteFilter& filter) const {
    std::map<uint32_t, std::string> names;
    for (const Link& link : netlink->listLinks().value()) names[link.ifindex] = link.name;
    std::vector<std::string> lines;
    for (const Route& route : netlink->listRoutes(filter).value()) {
      static const std::map<RouteType, std::string> kTypes = {{RouteType::Unicast, "unicast"},
                                                              {RouteType::Blackhole, "blackhole"},
                                                              {RouteType::Unreachable, "unreachable"},
                                                              {RouteType::Prohibit, "prohibit"}};
      std::string line = kTypes.at(route.type) + " " + route.dst.toString();
      if (route.type == RouteType::Unicast) {
        std::vector<std::string> hops;
        for (const Nexthop& h : route.nexthops)
          hops.push_back((h.gateway ? h.gateway->toString() : "-") + "@" +
                         (h.ifindex ? names[h.ifindex] : "-") + "*" + std::to_string(h.weight));
        std::sort(hops.begin(), hops.end());
        for (const auto& h : hops) line += " " + h;
      }
      lines.push_back(line);
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }
};

bool waitReadable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 5000) == 1;  // an upper bound on a kernel notification, not a sleep
}

double millisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("links and addresses are listed from the namespace the socket was opened in") {
  REQUIRE_NET_ADMIN();
  Node node;
  auto v0 = node.netlink->linkByName("v0").value();
  CHECK(v0.kind == "veth");
  CHECK(v0.up);
  CHECK(v0.mtu == 1500);
  CHECK(v0.mac.size() == 6);
  CHECK(node.netlink->linkByName("lo").value().ifindex == 1);
  auto missing = node.netlink->linkByName("nosuch0");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().toString() == "RTM_GETLINK nosuch0: No such device");
  auto links = node.netlink->listLinks().value();
  CHECK(links.size() == 3);  // lo, v0, v1: nothing of the host

  auto addresses = node.netlink->listAddresses(Family::V4).value();
  bool found = false;
  for (const auto& address : addresses)
    found |= address.ifindex == node.v0 && address.prefix.toString() == "10.0.0.2/24";
  CHECK(found);
  for (const auto& address : node.netlink->listAddresses(Family::V6).value())
    CHECK(address.prefix.family() == Family::V6);
}

TEST_CASE("routes of our protocol are added, replaced and deleted as `ip route` sees them") {
  REQUIRE_NET_ADMIN();
  Node node;
  Netlink& nl = *node.netlink;
  std::vector<Route> routes = {
      Route::via(prefix("10.65.0.0/26"), ip("10.0.0.1"), kProtocolBgp, node.v0),
      Route::toInterface(prefix("10.65.1.7/32"), node.v0, kProtocolBgp),
      Route::blackhole(prefix("10.66.0.0/26"), kProtocolBgp),
      Route::ecmp(prefix("10.67.0.0/26"),
                  {Nexthop{ip("10.0.0.1"), node.v0, 1}, Nexthop{ip("10.0.0.3"), node.v0, 2}}, kProtocolBgp),
      Route::ecmp(prefix("fd00:1::/64"),
                  {Nexthop{ip("fd00::1"), node.v0, 1}, Nexthop{ip("fd00::3"), node.v0, 1}}, kProtocolBgp),
      Route::blackhole(prefix("fd00:2::/64"), kProtocolBgp),
  };
  for (const Route& route : routes) {
    INFO(route.toString());
    CHECK(nl.addRoute(route));
  }
  CHECK(node.ourRoutes({Family::V4, kTableMain, kProtocolBgp}) ==
        node.ipRoutes("route show proto " + std::to_string(kProtocolBgp)));
  CHECK(node.ourRoutes({Family::V6, kTableMain, kProtocolBgp}) ==
        node.ipRoutes("-6 route show proto " + std::to_string(kProtocolBgp)));
  auto listed = nl.listRoutes({std::nullopt, kTableMain, kProtocolBgp}).value();
  REQUIRE(listed.size() == routes.size());
  for (const Route& route : routes) {
    INFO(route.toString());
    auto same =
        std::find_if(listed.begin(), listed.end(), [&](const Route& r) { return keyOf(r) == keyOf(route); });
    REQUIRE(same != listed.end());
    CHECK(sameForwarding(route, *same));
  }

  SECTION("add of an existing route is refused with the route named") {
    auto again = nl.addRoute(routes[0]);
    REQUIRE_FALSE(again);
    CHECK(again.error().toString().rfind("RTM_NEWROUTE 10.65.0.0/26: File exists", 0) == 0);
  }
  SECTION("replace changes the gateway in place; ECMP can shrink to one path") {
    CHECK(nl.replaceRoute(Route::via(prefix("10.65.0.0/26"), ip("10.0.0.3"), kProtocolBgp)));
    CHECK(nl.replaceRoute(Route::via(prefix("10.67.0.0/26"), ip("10.0.0.1"), kProtocolBgp)));
    auto lines = node.ipRoutes("route show proto " + std::to_string(kProtocolBgp));
    CHECK(std::count(lines.begin(), lines.end(), "unicast 10.65.0.0/26 10.0.0.3@v0*1") == 1);
    CHECK(std::count(lines.begin(), lines.end(), "unicast 10.67.0.0/26 10.0.0.1@v0*1") == 1);
  }
  SECTION("IPv6: replace swaps a whole ECMP set, and a blackhole for a path") {
    CHECK(nl.replaceRoute(
        Route::ecmp(prefix("fd00:1::/64"),
                    {Nexthop{ip("fd00::4"), node.v0, 1}, Nexthop{ip("fd00::5"), node.v0, 1}}, kProtocolBgp)));
    CHECK(nl.replaceRoute(Route::via(prefix("fd00:2::/64"), ip("fd00::1"), kProtocolBgp, node.v0)));
    CHECK(node.ipRoutes("-6 route show proto " + std::to_string(kProtocolBgp)) ==
          std::vector<std::string>{"unicast fd00:1::/64 fd00::4@v0*1 fd00::5@v0*1",
                                   "unicast fd00:2::/64 fd00::1@v0*1"});
  }
  SECTION("a table above 255 is used as given") {
    Route big = Route::blackhole(prefix("10.68.0.0/16"), kProtocolBgp);
    big.table = 1000;
    CHECK(nl.addRoute(big));
    CHECK(node.ipRoutes("route show table 1000") == std::vector<std::string>{"blackhole 10.68.0.0/16"});
    CHECK(nl.listRoutes({Family::V4, 1000, std::nullopt}).value() == std::vector<Route>{big});
    CHECK(nl.deleteRoute(big));
  }
  SECTION("delete removes exactly our routes, and a second delete is ESRCH") {
    for (const Route& route : routes) CHECK(nl.deleteRoute(route));
    CHECK(nl.listRoutes({std::nullopt, kTableMain, kProtocolBgp}).value().empty());
    auto gone = nl.deleteRoute(routes[0]);
    REQUIRE_FALSE(gone);
    CHECK(gone.error().toString().rfind("RTM_DELROUTE 10.65.0.0/26: No such process", 0) == 0);
  }
  SECTION("a delete naming our protocol leaves another protocol's route alone") {
    node.ns.execOrThrow("ip route add 10.69.0.0/24 via 10.0.0.1 proto static");
    auto refused = nl.deleteRoute(Route::via(prefix("10.69.0.0/24"), ip("10.0.0.1"), kProtocolBgp));
    CHECK_FALSE(refused);
    CHECK(node.ipRoutes("route show proto static").size() == 1);
  }
  SECTION("one refused change in a batch leaves the rest applied") {
    std::vector<RouteChange> batch = {
        {RouteOp::Add, Route::blackhole(prefix("10.80.0.0/24"), kProtocolBgp)},
        {RouteOp::Add, Route::via(prefix("10.81.0.0/24"), ip("192.168.200.1"), kProtocolBgp)},
        {RouteOp::Add, Route::blackhole(prefix("10.82.0.0/24"), kProtocolBgp)},
    };
    auto result = nl.applyRoutes(batch).value();
    CHECK(result.applied == 2);
    REQUIRE(result.failures.size() == 1);
    CHECK(result.failures[0].index == 1);
    CHECK(result.failures[0].errnum == ENETUNREACH);
    CHECK(result.failures[0].error.toString().rfind("RTM_NEWROUTE 10.81.0.0/24: Network is unreachable", 0) ==
          0);
  }
}

TEST_CASE("reconcile on start removes only our stale routes and is idempotent") {
  REQUIRE_NET_ADMIN();
  Node node;
  std::string proto = std::to_string(kProtocolBgp);
  node.ns.execOrThrow("ip route add 10.1.0.0/16 via 10.0.0.1 proto " + proto +      // ours, wanted
                      " && ip route add 10.2.0.0/16 via 10.0.0.1 proto " + proto +  // ours, stale
                      " && ip route add 10.3.0.0/16 via 10.0.0.1 proto static" +    // an operator's
                      " && ip route add 10.4.0.0/16 via 10.0.0.1 proto " + proto +  // ours, changed
                      " && ip -6 route add blackhole fd00:9::/64 proto " + proto);  // ours, stale
  std::vector<Route> desired = {
      Route::via(prefix("10.1.0.0/16"), ip("10.0.0.1"), kProtocolBgp),
      Route::via(prefix("10.4.0.0/16"), ip("10.0.0.3"), kProtocolBgp),
      Route::blackhole(prefix("10.65.0.0/26"), kProtocolBgp),
  };
  SyncScope scope{kTableMain, kProtocolBgp, std::nullopt};
  auto report = syncRoutes(*node.netlink, scope, desired).value();
  CHECK(report.failures.empty());
  CHECK(report.added == 1);
  CHECK(report.replaced == 1);
  CHECK(report.deleted == 2);
  CHECK(node.ipRoutes("route show proto " + proto) ==
        std::vector<std::string>{"blackhole 10.65.0.0/26", "unicast 10.1.0.0/16 10.0.0.1@v0*1",
                                 "unicast 10.4.0.0/16 10.0.0.3@v0*1"});
  CHECK(node.ipRoutes("-6 route show proto " + proto).empty());
  CHECK(node.ipRoutes("route show proto static") ==
        std::vector<std::string>{"unicast 10.3.0.0/16 10.0.0.1@v0*1"});
  CHECK(syncRoutes(*node.netlink, scope, desired).value().changes.empty());
}

TEST_CASE("the monitor sees routes and links changed by someone else") {
  REQUIRE_NET_ADMIN();
  Node node;
  std::unique_ptr<RouteMonitor> monitor;
  {
    EnterNamespace enter(node.ns);
    RouteMonitor::Groups groups;
    groups.addresses = true;
    monitor = RouteMonitor::open(groups).value();
  }
  std::vector<MonitorEvent> events;
  auto collect = [&](auto done) {
    while (!done()) {
      REQUIRE(waitReadable(monitor->fd()));
      monitor->drain([&](const MonitorEvent& e) { events.push_back(e); }).value();
    }
  };
  auto has = [&](MonitorEvent::Kind kind, const char* dst) {
    return std::any_of(events.begin(), events.end(), [&](const MonitorEvent& e) {
      return e.kind == kind && e.route.dst.toString() == dst;
    });
  };
  node.ns.execOrThrow("ip route add 10.70.0.0/24 via 10.0.0.1 proto 117");
  collect([&] { return has(MonitorEvent::Kind::RouteAdded, "10.70.0.0/24"); });
  auto added = std::find_if(events.begin(), events.end(),
                            [](const MonitorEvent& e) { return e.route.dst.toString() == "10.70.0.0/24"; });
  CHECK(added->route.protocol == 117);
  CHECK(added->route.nexthops.at(0).gateway == ip("10.0.0.1"));

  node.ns.execOrThrow("ip -6 route add blackhole fd00:70::/64 proto 117");
  collect([&] { return has(MonitorEvent::Kind::RouteAdded, "fd00:70::/64"); });
  node.ns.execOrThrow("ip route del 10.70.0.0/24");
  collect([&] { return has(MonitorEvent::Kind::RouteRemoved, "10.70.0.0/24"); });

  node.ns.execOrThrow("ip addr add 10.9.9.9/32 dev v1");
  collect([&] {
    return std::any_of(events.begin(), events.end(), [&](const MonitorEvent& e) {
      return e.kind == MonitorEvent::Kind::AddressAdded && e.address.prefix.toString() == "10.9.9.9/32" &&
             e.address.ifindex == node.v1;
    });
  });

  node.ns.execOrThrow("ip link set v1 down");
  collect([&] {
    return std::any_of(events.begin(), events.end(), [&](const MonitorEvent& e) {
      return e.kind == MonitorEvent::Kind::LinkChanged && e.link.name == "v1" && !e.link.up;
    });
  });
}

TEST_CASE("a monitor that falls behind is told it overflowed, so that it lists again") {
  REQUIRE_NET_ADMIN();
  Node node;
  std::unique_ptr<RouteMonitor> monitor;
  {
    EnterNamespace enter(node.ns);
    RouteMonitor::Groups groups;
    groups.receiveBufferBytes = 4096;
    monitor = RouteMonitor::open(groups).value();
  }
  std::vector<RouteChange> adds;
  for (int i = 0; i < 2000; ++i) {
    IpAddress address = ip("10.129.0.0");
    address.bytes[2] = static_cast<uint8_t>(i / 256);
    address.bytes[3] = static_cast<uint8_t>(i % 256);
    adds.push_back({RouteOp::Add, Route::blackhole(Prefix{address, 32}, kProtocolBgp)});
  }
  REQUIRE(node.netlink->applyRoutes(adds).value().ok());
  size_t overflows = 0, added = 0;
  monitor
      ->drain([&](const MonitorEvent& e) {
        overflows += e.kind == MonitorEvent::Kind::Overflow;
        added += e.kind == MonitorEvent::Kind::RouteAdded;
      })
      .value();
  CHECK(overflows >= 1);
  CHECK(added < adds.size());
}

TEST_CASE("interface sysctls act in the namespace the calling thread is in, not the host") {
  REQUIRE_NET_ADMIN();
  Node node;
  ProcSysctls sysctls;
  {
    EnterNamespace enter(node.ns);
    CHECK(sysctls.set(SysctlTree::Ipv4Conf, "v0", "forwarding", "1"));
    CHECK(sysctls.set(SysctlTree::Ipv4Conf, "v0", "proxy_arp", "1"));
    CHECK(sysctls.set(SysctlTree::Ipv4Neigh, "v0", "proxy_delay", "0"));
    CHECK(sysctls.set(SysctlTree::Ipv6Conf, "v0", "forwarding", "1"));
    CHECK(sysctls.get(SysctlTree::Ipv4Conf, "v0", "proxy_arp").value() == "1");
    CHECK_FALSE(sysctls.set(SysctlTree::Ipv4Conf, "v0", "proxy_arp", "banana"));
    CHECK(applySysctls(sysctls, workloadInterfaceSysctls("v1", true, true)));
  }
  CHECK(node.ns.execOrThrow(
            "sysctl -n net.ipv4.conf.v1.forwarding net.ipv4.conf.v1.proxy_arp "
            "net.ipv4.neigh.v1.proxy_delay net.ipv4.conf.v1.route_localnet "
            "net.ipv4.conf.v1.rp_filter net.ipv6.conf.v1.disable_ipv6 "
            "net.ipv6.conf.v1.forwarding net.ipv6.conf.v1.proxy_ndp net.ipv6.conf.v1.accept_ra") ==
        "1\n1\n0\n1\n1\n0\n1\n1\n0\n");
  // Another process, inside the namespace, sees what we wrote.
  CHECK(
      node.ns.execOrThrow("cat /proc/sys/net/ipv4/conf/v0/proxy_arp /proc/sys/net/ipv4/conf/v0/forwarding "
                          "/proc/sys/net/ipv4/neigh/v0/proxy_delay /proc/sys/net/ipv6/conf/v0/forwarding") ==
      "1\n1\n0\n1\n");
  // Back on the host, this same thread no longer sees the namespace's interfaces at all.
  auto host = sysctls.get(SysctlTree::Ipv4Conf, "v0", "proxy_arp");
  CHECK_FALSE(host);
}

TEST_CASE("a batch of 10k routes is added and removed; timings are printed, never asserted") {
  REQUIRE_NET_ADMIN();
  Node node;
  Netlink& nl = *node.netlink;
  constexpr int kCount = 10000;
  std::vector<RouteChange> adds, deletes;
  for (int i = 0; i < kCount; ++i) {
    IpAddress address = ip("10.128.0.0");
    address.bytes[2] = static_cast<uint8_t>(i / 256);
    address.bytes[3] = static_cast<uint8_t>(i % 256);
    Route route = Route::via(Prefix{address, 32}, ip("10.0.0.1"), kProtocolBgp, node.v0);
    adds.push_back({RouteOp::Add, route});
    deletes.push_back({RouteOp::Delete, route});
  }
  struct Run {
    size_t batch;
    double addMs, dumpMs, deleteMs;
  };
  std::vector<Run> runs;
  for (size_t batch : {size_t{1}, size_t{64}, size_t{1024}, size_t{8192}}) {
    nl.setBatchSize(batch);
    auto start = std::chrono::steady_clock::now();
    auto added = nl.applyRoutes(adds).value();
    double addMs = millisSince(start);
    CHECK(added.applied == kCount);
    CHECK(added.failures.empty());
    start = std::chrono::steady_clock::now();
    auto listed = nl.listRoutes({Family::V4, kTableMain, kProtocolBgp}).value();
    double dumpMs = millisSince(start);
    CHECK(listed.size() == kCount);
    CHECK(node.ns.execOrThrow("ip route show proto " + std::to_string(kProtocolBgp) + " | wc -l") ==
          std::to_string(kCount) + "\n");
    start = std::chrono::steady_clock::now();
    auto removed = nl.applyRoutes(deletes).value();
    double deleteMs = millisSince(start);
    CHECK(removed.applied == kCount);
    CHECK(nl.listRoutes({Family::V4, kTableMain, kProtocolBgp}).value().empty());
    runs.push_back({batch, addMs, dumpMs, deleteMs});
  }
  // Every change of a big batch refused: each failure still comes back, none is lost.
  nl.setBatchSize(8192);
  auto refused = nl.applyRoutes(deletes).value();
  CHECK(refused.applied == 0);
  REQUIRE(refused.failures.size() == kCount);
  CHECK(refused.failures.back().index == kCount - 1);
  CHECK(refused.failures.back().errnum == ESRCH);
  for (const Run& run : runs) {
    std::printf(
        "kernel_netlink: %d routes, %5zu per sendmsg: add %7.1f ms (%6.0f/s), dump %6.1f ms, "
        "delete %7.1f ms (%6.0f/s)\n",
        kCount, run.batch, run.addMs, kCount / run.addMs * 1000, run.dumpMs, run.deleteMs,
        kCount / run.deleteMs * 1000);
  }
}
