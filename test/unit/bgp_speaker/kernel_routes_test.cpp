// Kernel routes to announce: the spec syntax, what matches, what is never announced, and the
// tracked set's changes (the same final kernel state in any order gives the same announcements).
#include "kernel_routes.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <tuple>

using namespace tartan;
using namespace tartan::bgp;
using namespace tartan::bgp::speaker;

namespace {

netlink::Prefix nlPrefix(const char* text) { return netlink::Prefix::parse(text).value(); }
Prefix prefix(const char* text) { return Prefix::parse(text).value(); }

netlink::Route devRoute(const char* dst, std::uint32_t ifindex, std::uint8_t protocol,
                        std::uint32_t table = 254) {
  auto r = netlink::Route::toInterface(nlPrefix(dst), ifindex, protocol);
  r.table = table;
  return r;
}

std::optional<std::string> noNames(std::uint32_t) { return std::nullopt; }

}  // namespace

TEST_CASE("spec: the keys and their defaults") {
  auto s = parseKernelRouteSpec("protocol=static,prefix=198.51.100.0/24");
  REQUIRE(s.has_value());
  CHECK(s->table == 254);
  CHECK(s->protocol == std::optional<std::uint8_t>(4));
  CHECK(s->prefixes == std::vector<netlink::Prefix>{nlPrefix("198.51.100.0/24")});
  CHECK_FALSE(s->interface);

  s = parseKernelRouteSpec(
      " table=100 , protocol=42, prefix=10.0.0.0/8,prefix=2001:db8::/32,interface=eth0 ");
  REQUIRE(s.has_value());
  CHECK(s->table == 100);
  CHECK(s->protocol == std::optional<std::uint8_t>(42));
  CHECK(s->prefixes.size() == 2);
  CHECK(s->interface == std::optional<std::string>("eth0"));

  const std::vector<std::tuple<const char*, int>> names{{"kernel", 2}, {"boot", 3},  {"static", 4},
                                                        {"dhcp", 16},  {"bird", 12}, {"zebra", 11},
                                                        {"bgp", 186},  {"0", 0},     {"255", 255}};
  for (const auto& [name, number] : names) {
    INFO(name);
    CHECK(routeProtocolByName(name) == std::optional<std::uint8_t>(static_cast<std::uint8_t>(number)));
  }
}

TEST_CASE("spec: a bad part is refused, naming the spec and the part") {
  const std::vector<std::tuple<const char*, const char*, const char*>> cases{
      {"", "", "empty spec"},
      {"protocol=static,", "", "empty part"},
      {"static", "static", "key=value"},
      {"protocol=", "protocol=", "empty value"},
      {"protocol=nosuch", "protocol=nosuch", "unknown protocol"},
      {"protocol=256", "protocol=256", "unknown protocol"},
      {"protocol=117", "protocol=117", "Tartan's own"},
      {"protocol=116", "protocol=116", "Tartan's own"},
      {"protocol=static,protocol=boot", "protocol=boot", "twice"},
      {"table=main", "table=main", "table must be a number"},
      {"table=0", "table=0", "table must be a number"},
      {"table=1,table=2", "table=2", "twice"},
      {"prefix=198.51.100.1/24", "prefix=198.51.100.1/24", "CIDR"},
      {"prefix=198.51.100.0/33", "prefix=198.51.100.0/33", "CIDR"},
      {"prefix=198.51.100.0", "prefix=198.51.100.0", "CIDR"},
      {"interface=a/b", "interface=a/b", "interface name"},
      {"interface=abcdefghijklmnop", "interface=abcdefghijklmnop", "interface name"},
      {"proto=static", "proto=static", "unknown key \"proto\""},
  };
  for (const auto& [text, field, what] : cases) {
    INFO(text);
    auto s = parseKernelRouteSpec(text);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().field == field);
    CHECK(s.error().what.find(what) != std::string::npos);
    CHECK(s.error().where.find("--announce-kernel-routes") != std::string::npos);
  }
}

TEST_CASE("spec list: options then the environment's ';'-separated specs") {
  auto specs = parseKernelRouteSpecs({"protocol=static"}, "protocol=boot;table=100;");
  REQUIRE(specs.has_value());
  REQUIRE(specs->size() == 3);
  CHECK((*specs)[1].protocol == std::optional<std::uint8_t>(3));
  CHECK((*specs)[2].table == 100);
  CHECK(parseKernelRouteSpecs({}, "")->empty());

  auto bad = parseKernelRouteSpecs({}, "protocol=static;prefix=nope");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().where.find("TARTAN_BGP_ANNOUNCE_KERNEL_ROUTES") != std::string::npos);
  CHECK(bad.error().field == "prefix=nope");
}

TEST_CASE("never announced: Tartan's own routes, local and multicast kinds, host scope, link-local") {
  CHECK(announceable(devRoute("198.51.100.0/25", 3, 4)));  // `ip route add ... dev X proto static`
  CHECK(announceable(
      netlink::Route::via(nlPrefix("203.0.113.0/24"), netlink::IpAddress::parse("10.0.0.1").value(), 3)));
  CHECK(announceable(netlink::Route::blackhole(nlPrefix("203.0.113.0/24"), 4)));
  CHECK(announceable(devRoute("2001:db8:1::/64", 3, 4)));

  CHECK_FALSE(announceable(netlink::Route::blackhole(nlPrefix("10.65.0.0/26"), netlink::kProtocolBgp)));
  CHECK_FALSE(announceable(devRoute("10.65.0.5/32", 7, netlink::kProtocolAgent)));
  CHECK_FALSE(announceable(devRoute("198.51.100.0/25", 3, netlink::kProtocolBgp)));
  for (const auto type :
       {netlink::RouteType::Local, netlink::RouteType::Broadcast, netlink::RouteType::Multicast,
        netlink::RouteType::Anycast, netlink::RouteType::Throw}) {
    auto r = devRoute("198.51.100.0/25", 3, 2);
    r.type = type;
    CHECK_FALSE(announceable(r));
  }
  auto host = devRoute("198.51.100.1/32", 3, 2);
  host.scope = netlink::RouteScope::Host;
  CHECK_FALSE(announceable(host));
  CHECK_FALSE(announceable(devRoute("169.254.0.0/16", 3, 4)));
  CHECK_FALSE(announceable(devRoute("fe80::/64", 3, 2)));
  CHECK_FALSE(announceable(devRoute("ff00::/8", 3, 2)));
  CHECK_FALSE(announceable(devRoute("224.0.0.0/4", 3, 4)));
}

TEST_CASE("match: table, protocol, prefix inside, interface — every field given must hold") {
  const auto spec =
      parseKernelRouteSpec("protocol=static,prefix=198.51.100.0/24,prefix=2001:db8::/32").value();
  CHECK(specMatches(spec, devRoute("198.51.100.0/25", 3, 4), noNames));
  CHECK(specMatches(spec, devRoute("198.51.100.0/24", 3, 4), noNames));
  CHECK(specMatches(spec, devRoute("2001:db8:5::/48", 3, 4), noNames));
  CHECK_FALSE(specMatches(spec, devRoute("198.51.0.0/16", 3, 4), noNames));         // wider than the prefix
  CHECK_FALSE(specMatches(spec, devRoute("203.0.113.0/24", 3, 4), noNames));        // outside
  CHECK_FALSE(specMatches(spec, devRoute("198.51.100.0/25", 3, 3), noNames));       // boot, not static
  CHECK_FALSE(specMatches(spec, devRoute("198.51.100.0/25", 3, 4, 100), noNames));  // not main

  const auto byInterface = parseKernelRouteSpec("table=100,interface=eth1").value();
  const auto names = [](std::uint32_t i) -> std::optional<std::string> {
    if (i == 3) return "eth1";
    return std::nullopt;
  };
  CHECK(specMatches(byInterface, devRoute("203.0.113.0/24", 3, 2, 100), names));
  CHECK_FALSE(specMatches(byInterface, devRoute("203.0.113.0/24", 4, 2, 100), names));
  CHECK_FALSE(specMatches(byInterface, devRoute("203.0.113.0/24", 3, 2, 100), noNames));
}

TEST_CASE("diff of announced sets: new and changed announced, gone withdrawn") {
  KernelAnnouncements before{{prefix("10.0.0.0/24"), {"eth0"}}, {prefix("10.0.1.0/24"), {"eth0"}}};
  KernelAnnouncements after{
      {prefix("10.0.0.0/24"), {"eth0"}}, {prefix("10.0.1.0/24"), {"eth1"}}, {prefix("10.0.2.0/24"), {}}};
  const auto d = diffAnnouncements(before, after);
  CHECK(d.announced == std::vector<std::pair<Prefix, KernelAnnouncement>>{{prefix("10.0.1.0/24"), {"eth1"}},
                                                                          {prefix("10.0.2.0/24"), {}}});
  CHECK(diffAnnouncements(after, before).withdrawn == std::vector<Prefix>{prefix("10.0.2.0/24")});
  CHECK(diffAnnouncements(after, after).empty());
}

TEST_CASE("tracked set: routes come and go, with their interface names") {
  KernelRouteSet set({parseKernelRouteSpec("protocol=static,prefix=198.51.100.0/24").value()});
  set.replaceAll({devRoute("198.51.100.0/25", 3, 4), devRoute("198.51.100.128/25", 3, 3),
                  devRoute("203.0.113.0/24", 3, 4)},
                 {{3, "veth0"}});
  auto c = set.takeChanges();
  CHECK(c.announced ==
        std::vector<std::pair<Prefix, KernelAnnouncement>>{{prefix("198.51.100.0/25"), {"veth0"}}});
  CHECK(c.withdrawn.empty());
  CHECK(set.takeChanges().empty());

  // A second route to the prefix with a higher metric changes nothing; the lower one's going does
  // not withdraw the prefix while the other remains.
  auto second = devRoute("198.51.100.0/25", 4, 4);
  second.priority = 100;
  set.routeAdded(second);
  CHECK(set.takeChanges().empty());
  set.linkChanged(4, "veth1");
  set.routeRemoved(devRoute("198.51.100.0/25", 3, 4));
  c = set.takeChanges();
  CHECK(c.announced ==
        std::vector<std::pair<Prefix, KernelAnnouncement>>{{prefix("198.51.100.0/25"), {"veth1"}}});
  set.routeRemoved(second);
  c = set.takeChanges();
  CHECK(c.withdrawn == std::vector<Prefix>{prefix("198.51.100.0/25")});
  CHECK(set.announced().empty());

  // Tartan's own blackhole for a block inside the prefix never counts.
  set.routeAdded(netlink::Route::blackhole(nlPrefix("198.51.100.64/26"), netlink::kProtocolBgp));
  CHECK(set.takeChanges().empty());
}

TEST_CASE("tracked set: an interface rename re-evaluates interface= specs") {
  KernelRouteSet set({parseKernelRouteSpec("interface=uplink").value()});
  set.linkChanged(5, "eth5");
  set.routeAdded(devRoute("203.0.113.0/24", 5, 3));
  CHECK(set.takeChanges().empty());
  set.linkChanged(5, "uplink");
  auto c = set.takeChanges();
  CHECK(c.announced ==
        std::vector<std::pair<Prefix, KernelAnnouncement>>{{prefix("203.0.113.0/24"), {"uplink"}}});
  set.linkRemoved(5);
  CHECK(set.takeChanges().withdrawn == std::vector<Prefix>{prefix("203.0.113.0/24")});
}

TEST_CASE("tracked set: a deleted interface takes its routes along (IPv4 sends no RTM_DELROUTE)") {
  KernelRouteSet set({parseKernelRouteSpec("protocol=static").value()});
  set.replaceAll({devRoute("198.51.100.0/25", 3, 4), devRoute("203.0.113.0/24", 4, 4)}, {{3, "a"}, {4, "b"}});
  CHECK(set.takeChanges().announced.size() == 2);
  set.linkRemoved(3);
  auto c = set.takeChanges();
  CHECK(c.withdrawn == std::vector<Prefix>{prefix("198.51.100.0/25")});
  CHECK(c.announced.empty());
  set.linkChanged(3, "a");  // a new link with the same index brings nothing back by itself
  CHECK(set.takeChanges().empty());
}

TEST_CASE("tracked set: the same final kernel state in any order, or as a dump, announces the same") {
  const auto spec = parseKernelRouteSpec("protocol=static").value();
  std::vector<netlink::Route> routes{devRoute("198.51.100.0/25", 3, 4), devRoute("203.0.113.0/24", 4, 4),
                                     devRoute("192.0.2.0/24", 3, 3), devRoute("2001:db8::/64", 4, 4)};
  auto withMetric = devRoute("203.0.113.0/24", 3, 4);
  withMetric.priority = 5;
  routes.push_back(withMetric);
  const std::vector<std::pair<std::uint32_t, std::string>> links{{3, "a"}, {4, "b"}};

  KernelRouteSet dumped({spec});
  dumped.replaceAll(routes, links);
  dumped.takeChanges();
  const auto expected = dumped.announced();
  CHECK(expected.size() == 3);

  std::sort(routes.begin(), routes.end(),
            [](const auto& a, const auto& b) { return a.toString() < b.toString(); });
  do {
    KernelRouteSet live({spec});
    for (const auto& [i, n] : links) live.linkChanged(i, n);
    KernelAnnouncements applied;
    for (const auto& r : routes) {
      live.routeAdded(r);
      live.routeAdded(r);  // duplicated events change nothing
      // Changes taken in pieces add up to the same set.
      const auto c = live.takeChanges();
      for (const auto& [p, a] : c.announced) applied[p] = a;
      for (const auto& p : c.withdrawn) applied.erase(p);
    }
    CHECK(live.announced() == expected);
    CHECK(applied == expected);
  } while (std::next_permutation(routes.begin(), routes.end(),
                                 [](const auto& a, const auto& b) { return a.toString() < b.toString(); }));

  // A dump after an overflow that no longer has a route withdraws it.
  std::erase_if(routes, [](const netlink::Route& r) { return r.dst == nlPrefix("198.51.100.0/25"); });
  KernelRouteSet after({spec});
  after.replaceAll(routes, links);
  after.takeChanges();
  dumped.replaceAll(routes, links);
  const auto c = dumped.takeChanges();
  CHECK(dumped.announced() == after.announced());
  CHECK(c.withdrawn == std::vector<Prefix>{prefix("198.51.100.0/25")});
  CHECK(c.announced.empty());
}
