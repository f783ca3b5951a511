// Route sync as a specification: the pure diff first, then syncRoutes against the fake kernel.
#include <tartan/netlink/route_sync.hpp>

#include "support/fake_netlink.hpp"

#include <catch2/catch.hpp>

using namespace tartan::netlink;
using tartan::test::FakeNetlink;

namespace {
Prefix prefix(const char* text) { return Prefix::parse(text).value(); }
IpAddress ip(const char* text) { return IpAddress::parse(text).value(); }

const SyncScope kScope{kTableMain, kProtocolBgp, std::nullopt};

Route via(const char* dst, const char* gateway, uint8_t protocol = kProtocolBgp) {
  return Route::via(prefix(dst), ip(gateway), protocol);
}

std::vector<std::string> describe(const std::vector<RouteChange>& changes) {
  std::vector<std::string> out;
  for (const auto& change : changes)
    out.push_back(std::string(toString(change.op)) + " " + change.route.dst.toString());
  return out;
}
using Lines = std::vector<std::string>;
}  // namespace

TEST_CASE("prefixes and addresses parse strictly and print canonically") {
  CHECK(prefix("10.65.0.0/26").toString() == "10.65.0.0/26");
  CHECK(prefix("10.65.0.7").toString() == "10.65.0.7/32");
  CHECK(prefix("FD00::/8").toString() == "fd00::/8");
  CHECK_FALSE(Prefix::parse("10.65.0.1/26"));  // host bits
  CHECK_FALSE(Prefix::parse("10.65.0.0/33"));
  CHECK_FALSE(Prefix::parse("10.65.0.0/"));
  CHECK_FALSE(Prefix::parse("10.65.0.0/2x"));
  CHECK_FALSE(Prefix::parse("fd00::/129"));
  CHECK_FALSE(IpAddress::parse("10.0.0.256"));
  CHECK_FALSE(IpAddress::parse(""));
  CHECK(via("10.1.0.0/16", "10.0.0.1").toString() == "10.1.0.0/16 table 254 proto 117 via 10.0.0.1");
}

TEST_CASE("the key of an IPv6 route counts metric 0 as the kernel's 1024") {
  Route a = Route::blackhole(prefix("fd00::/64"), kProtocolBgp);
  Route b = a;
  b.priority = 1024;
  CHECK(keyOf(a) == keyOf(b));
  Route c = Route::blackhole(prefix("10.0.0.0/8"), kProtocolBgp);
  CHECK(effectivePriority(c) == 0);
}

TEST_CASE("sameForwarding: nexthop order, resolved interfaces and IPv6 scope do not count") {
  Route want = Route::ecmp(prefix("10.2.0.0/16"),
                           {Nexthop{ip("10.0.0.1"), 0, 1}, Nexthop{ip("10.0.0.2"), 0, 1}}, kProtocolBgp);
  Route have = Route::ecmp(prefix("10.2.0.0/16"),
                           {Nexthop{ip("10.0.0.2"), 7, 1}, Nexthop{ip("10.0.0.1"), 7, 1}}, kProtocolBgp);
  CHECK(sameForwarding(want, have));
  have.nexthops[0].weight = 2;
  CHECK_FALSE(sameForwarding(want, have));
  have.nexthops[0].weight = 1;
  have.nexthops[0].gateway = ip("10.0.0.3");
  CHECK_FALSE(sameForwarding(want, have));

  Route v6want = Route::toInterface(prefix("fd00::5/128"), 3, kProtocolAgent);
  Route v6have = v6want;
  v6have.scope = RouteScope::Universe;
  CHECK(sameForwarding(v6want, v6have));
  Route v4want = Route::toInterface(prefix("10.0.0.5/32"), 3, kProtocolAgent);
  Route v4have = v4want;
  v4have.scope = RouteScope::Universe;
  CHECK_FALSE(sameForwarding(v4want, v4have));

  Route hole = Route::blackhole(prefix("fd00::/64"), kProtocolBgp);
  Route holeWithLo = hole;
  holeWithLo.nexthops.push_back(Nexthop{std::nullopt, 1, 1});
  CHECK(sameForwarding(hole, holeWithLo));
}

TEST_CASE("diffRoutes: the table of what must change") {
  struct Case {
    const char* rule;
    std::vector<Route> desired;
    std::vector<Route> actual;
    Lines expected;
  };
  Route otherTable = via("10.9.0.0/16", "10.0.0.1");
  otherTable.table = 100;
  Route ourMetric = via("10.5.0.0/16", "10.0.0.1");
  ourMetric.priority = 10;
  std::vector<Case> cases = {
      {"nothing wanted, nothing there", {}, {}, {}},
      {"a new route is added", {via("10.1.0.0/16", "10.0.0.1")}, {}, {"add 10.1.0.0/16"}},
      {"an identical route is left alone",
       {via("10.1.0.0/16", "10.0.0.1")},
       {via("10.1.0.0/16", "10.0.0.1")},
       {}},
      {"a changed gateway is replaced",
       {via("10.1.0.0/16", "10.0.0.2")},
       {via("10.1.0.0/16", "10.0.0.1")},
       {"replace 10.1.0.0/16"}},
      {"a stale route of ours is deleted", {}, {via("10.1.0.0/16", "10.0.0.1")}, {"delete 10.1.0.0/16"}},
      {"routes of other protocols are never touched",
       {},
       {via("10.1.0.0/16", "10.0.0.1", 3), via("10.2.0.0/16", "10.0.0.1", 2)},
       {}},
      {"routes of other tables are never touched", {}, {otherTable}, {}},
      {"another protocol's route with our key: we add ours (the kernel decides)",
       {via("10.1.0.0/16", "10.0.0.1")},
       {via("10.1.0.0/16", "10.0.0.1", 3)},
       {"add 10.1.0.0/16"}},
      {"a metric change is an add of the new key and a delete of the old",
       {via("10.5.0.0/16", "10.0.0.1")},
       {ourMetric},
       {"add 10.5.0.0/16", "delete 10.5.0.0/16"}},
      {"unicast becoming blackhole is a replace",
       {Route::blackhole(prefix("10.1.0.0/16"), kProtocolBgp)},
       {via("10.1.0.0/16", "10.0.0.1")},
       {"replace 10.1.0.0/16"}},
      {"adds and replaces come before deletes",
       {via("10.3.0.0/16", "10.0.0.1"), via("10.1.0.0/16", "10.0.0.9")},
       {via("10.1.0.0/16", "10.0.0.1"), via("10.2.0.0/16", "10.0.0.1")},
       {"add 10.3.0.0/16", "replace 10.1.0.0/16", "delete 10.2.0.0/16"}},
  };
  for (const Case& c : cases) {
    INFO(c.rule);
    CHECK(describe(diffRoutes(kScope, c.desired, c.actual)) == c.expected);
  }
}

TEST_CASE("diffRoutes: of two desired routes with one key the last wins") {
  auto changes = diffRoutes(kScope, {via("10.1.0.0/16", "10.0.0.1"), via("10.1.0.0/16", "10.0.0.2")},
                            {via("10.1.0.0/16", "10.0.0.1")});
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].op == RouteOp::Replace);
  CHECK(changes[0].route.nexthops[0].gateway == ip("10.0.0.2"));
}

TEST_CASE("diffRoutes gives the same answer whatever the order of its inputs") {
  std::vector<Route> desired, actual;
  for (int i = 0; i < 50; ++i) {
    std::string dst = "10.1." + std::to_string(i) + ".0/24";
    if (i % 3 != 0) desired.push_back(via(dst.c_str(), "10.0.0.1"));
    if (i % 2 == 0) actual.push_back(via(dst.c_str(), i % 4 == 0 ? "10.0.0.1" : "10.0.0.2"));
  }
  auto forward = diffRoutes(kScope, desired, actual);
  std::reverse(desired.begin(), desired.end());
  std::reverse(actual.begin(), actual.end());
  CHECK(diffRoutes(kScope, desired, actual) == forward);
}

TEST_CASE("syncRoutes reconciles the fake kernel and removes only our stale routes") {
  FakeNetlink kernel;
  kernel.seedRoute(via("10.1.0.0/16", "10.0.0.1"));                         // ours, still wanted
  kernel.seedRoute(via("10.2.0.0/16", "10.0.0.1"));                         // ours, stale
  kernel.seedRoute(via("10.3.0.0/16", "10.0.0.1", 3));                      // an operator's
  kernel.seedRoute(Route::blackhole(prefix("fd00:1::/64"), kProtocolBgp));  // ours, stale v6

  std::vector<Route> desired = {
      via("10.1.0.0/16", "10.0.0.1"), Route::blackhole(prefix("10.65.0.0/26"), kProtocolBgp),
      Route::ecmp(prefix("fd00:2::/64"), {Nexthop{ip("fe80::1"), 0, 1}, Nexthop{ip("fe80::2"), 0, 1}},
                  kProtocolBgp)};
  auto report = syncRoutes(kernel, kScope, desired).value();
  CHECK(report.added == 2);
  CHECK(report.deleted == 2);
  CHECK(report.replaced == 0);
  CHECK(report.failures.empty());
  CHECK(kernel.routes().size() == 4);
  CHECK(kernel.routes().contains(keyOf(via("10.3.0.0/16", "10.0.0.1", 3))));

  // A second run finds nothing to do.
  auto again = syncRoutes(kernel, kScope, desired).value();
  CHECK(again.changes.empty());
}

TEST_CASE("syncRoutes reports refused changes and counts a vanished delete as done") {
  FakeNetlink kernel;
  kernel.seedRoute(via("10.2.0.0/16", "10.0.0.1"));
  kernel.failNext(ENETUNREACH);  // the add
  kernel.failNext(ESRCH);        // the delete: someone was faster
  auto report = syncRoutes(kernel, kScope, {via("10.1.0.0/16", "10.0.0.1")}).value();
  REQUIRE(report.failures.size() == 1);
  CHECK(report.failures[0].errnum == ENETUNREACH);
  CHECK(report.failures[0].error.toString() == "RTM_NEWROUTE 10.1.0.0/16: Network is unreachable");
  CHECK(report.deleted == 1);
  CHECK(report.added == 0);
}

TEST_CASE("the fake keeps the kernel's rules for add, replace and delete") {
  FakeNetlink kernel;
  kernel.addLink(Link{3, "eth0", true, true, 0x41, 1500, {}, ""});
  Route route = Route::toInterface(prefix("10.65.0.0/26"), 3, kProtocolAgent);
  CHECK(kernel.addRoute(route));
  auto again = kernel.addRoute(route);
  REQUIRE_FALSE(again);
  CHECK(again.error().toString() == "RTM_NEWROUTE 10.65.0.0/26: File exists");
  CHECK(kernel.replaceRoute(route));
  Route theirs = route;
  theirs.protocol = 3;
  CHECK_FALSE(kernel.deleteRoute(theirs));
  CHECK(kernel.deleteRoute(route));
  CHECK_FALSE(kernel.deleteRoute(route));
  CHECK_FALSE(kernel.addRoute(Route::toInterface(prefix("10.65.0.0/26"), 99, kProtocolAgent)));
  CHECK(kernel.linkByName("eth0").value().ifindex == 3);
  CHECK_FALSE(kernel.linkByName("eth1"));
}
