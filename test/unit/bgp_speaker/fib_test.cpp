// FibWriter against the fake kernel: the speaker's routes never displace a route of another
// protocol that holds the same key (prefix, metric), and go in once that route has gone.
#include "fib.hpp"

#include "loopback_fixture.hpp"
#include "support/eventually.hpp"

#include <catch2/catch.hpp>

using namespace tartan;
using namespace tartan::bgp;
using namespace tartan::bgp::speaker;
using namespace std::chrono_literals;
using tartan::test::eventually;
using tartan::test::LockedTable;

namespace {

netlink::Prefix nlPrefix(const char* text) { return *netlink::Prefix::parse(text); }
netlink::IpAddress nlAddress(const char* text) { return *netlink::IpAddress::parse(text); }

FibRoute via(const char* gateway, std::uint32_t priority = 0) {
  FibRoute r;
  r.gateways.push_back(*Address::parse(gateway));
  r.priority = priority;
  return r;
}

FibWriter::Change change(const char* prefix, std::optional<FibRoute> route) {
  return {*Prefix::parse(prefix), std::move(route)};
}

// What holds the prefix in the kernel: "<protocol> <metric> <gateway or dev>" per route, sorted.
std::vector<std::string> holders(LockedTable& table, const char* prefix) {
  std::vector<std::string> out;
  for (const auto& r : table.findAll(prefix)) {
    std::string hop =
        r.nexthops.empty() || !r.nexthops[0].gateway ? "dev" : r.nexthops[0].gateway->toString();
    out.push_back(std::to_string(r.protocol) + " " + std::to_string(r.priority) + " " + hop);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE(
    "the FIB writer never displaces another protocol's route of the same key, and installs once it goes") {
  auto owned = std::make_unique<LockedTable>();
  LockedTable& table = *owned;
  // The node's connected subnet (the kernel's), a local workload's route (the agent's), and a
  // route of ours a previous run left.
  const auto connected = netlink::Route::toInterface(nlPrefix("10.99.0.0/24"), 2, 2);
  const auto workload = netlink::Route::toInterface(nlPrefix("10.65.1.5/32"), 7, netlink::kProtocolAgent);
  table.seed(connected);
  table.seed(workload);
  table.seed(netlink::Route::via(nlPrefix("10.66.0.0/24"), nlAddress("10.99.0.9"), netlink::kProtocolBgp));
  FibWriter fib(std::move(owned));
  REQUIRE(fib.preserved() == 1);

  fib.update({change("10.99.0.0/24", via("10.99.0.2")), change("10.65.1.5/32", via("10.99.0.3")),
              change("0.0.0.0/0", via("10.99.0.2")), change("198.51.100.0/24", via("10.99.0.2")),
              change("10.66.0.0/24", via("10.99.0.2"))});
  REQUIRE(fib.waitIdle(5s));

  // Free keys: ours. Our own key of the previous run: replaced in place.
  CHECK(holders(table, "0.0.0.0/0") == std::vector<std::string>{"117 0 10.99.0.2"});
  CHECK(holders(table, "198.51.100.0/24") == std::vector<std::string>{"117 0 10.99.0.2"});
  CHECK(holders(table, "10.66.0.0/24") == std::vector<std::string>{"117 0 10.99.0.2"});
  // Held keys: the other protocol's route stays, alone; that is a wait, not a failure.
  CHECK(holders(table, "10.99.0.0/24") == std::vector<std::string>{"2 0 dev"});
  CHECK(holders(table, "10.65.1.5/32") == std::vector<std::string>{"116 0 dev"});
  CHECK(fib.stats().heldBack == 2);
  CHECK(fib.stats().failures == 0);
  CHECK(fib.stats().installed == 3);

  SECTION("once the other route goes, ours goes in by itself") {
    table.unseed(workload);
    REQUIRE(eventually(
        [&] { return holders(table, "10.65.1.5/32") == std::vector<std::string>{"117 0 10.99.0.3"}; },
        4 * FibWriter::kHeldRetry));
    CHECK(fib.stats().heldBack == 1);
    CHECK(holders(table, "10.99.0.0/24") == std::vector<std::string>{"2 0 dev"});
  }
  SECTION("a held route keeps waiting through a retry the kernel refuses whole") {
    table.failBatches(1);
    REQUIRE(eventually([&] { return table.failedBatches() == 1; }, 4 * FibWriter::kHeldRetry));
    table.unseed(workload);
    REQUIRE(eventually(
        [&] { return holders(table, "10.65.1.5/32") == std::vector<std::string>{"117 0 10.99.0.3"}; },
        4 * FibWriter::kHeldRetry));
  }
  SECTION("a held route withdrawn is forgotten: it never goes in later") {
    fib.update({change("10.65.1.5/32", std::nullopt)});
    REQUIRE(fib.waitIdle(5s));
    CHECK(fib.stats().heldBack == 1);  // only the connected subnet still waits
    table.unseed(workload);
    table.unseed(connected);
    // The subnet going in shows a retry round ran; the withdrawn route was not in it.
    REQUIRE(eventually(
        [&] { return holders(table, "10.99.0.0/24") == std::vector<std::string>{"117 0 10.99.0.2"}; },
        4 * FibWriter::kHeldRetry));
    CHECK(holders(table, "10.65.1.5/32").empty());
    CHECK(fib.stats().heldBack == 0);
  }
  SECTION("another metric is another key: the route goes in beside the other protocol's") {
    fib.update({change("10.65.1.5/32", via("10.99.0.3", 500))});
    REQUIRE(fib.waitIdle(5s));
    CHECK(holders(table, "10.65.1.5/32") == std::vector<std::string>{"116 0 dev", "117 500 10.99.0.3"});
    CHECK(fib.stats().heldBack == 1);
    // Back to the default metric: ours at 500 goes, the agent's key is still taken.
    fib.update({change("10.65.1.5/32", via("10.99.0.3"))});
    REQUIRE(fib.waitIdle(5s));
    CHECK(holders(table, "10.65.1.5/32") == std::vector<std::string>{"116 0 dev"});
    CHECK(fib.stats().heldBack == 2);
  }
  SECTION("a route of ours is replaced, not added again, when its next hop changes") {
    fib.update({change("198.51.100.0/24", via("10.99.0.4"))});
    REQUIRE(fib.waitIdle(5s));
    CHECK(holders(table, "198.51.100.0/24") == std::vector<std::string>{"117 0 10.99.0.4"});
    CHECK(fib.stats().failures == 0);
  }
}
