// What tartan-bgpd imports from a real BIRD 2 standing in for a top-of-rack router, and what it
// still advertises from a disabled IP pool.
//
// tartan (AS 64512) is 10.99.0.1 / fd99::1, BIRD (AS 65001) 10.99.0.2 / fd99::2, eBGP over both
// families. BIRD announces, from static protocols: default routes (0.0.0.0/0, ::/0), prefixes no
// IP pool covers (198.51.100.0/24, 2001:db8:100::/48), one of each that tartan's BGPFilter rejects
// on import (203.0.113.0/24, 2001:db8:66::/48), and the subnet of the link between them
// (10.99.0.0/24), for which tartan's kernel already has its connected route, and tartan's block
// 10.65.2.0/26 with a part of it, 10.65.2.8/29 (as a node that borrowed addresses from it would).
// Calico imports all of it but what a filter rejects; its kernel keeps its own routes and the
// block's blackhole. Tartan's only IP pools are disabled (10.65.0.0/16, fd65::/48): the node's
// blocks in them are still announced, and BIRD installs 10.65.1.0/26 and fd65::/122 in its kernel.
#include "interop/bgp/harness.hpp"

#include <catch2/catch.hpp>

using namespace tartan;
using namespace tartan::test;
using namespace tartan::test::bgp;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t kTartanAs = 64512;
constexpr std::uint32_t kBirdAs = 65001;

std::string torConfig() {
  const std::string common = "  local as " + std::to_string(kBirdAs) +
                             ";\n  hold time 9; connect retry time 2; error wait time 1, 2;\n";
  return "router id 10.99.0.2;\n"
         "protocol device { scan time 1; }\n"
         "protocol kernel k4 { ipv4 { import none; export where source = RTS_BGP; }; }\n"
         "protocol kernel k6 { ipv6 { import none; export where source = RTS_BGP; }; }\n"
         "protocol static s4 { ipv4; route 0.0.0.0/0 blackhole; route 198.51.100.0/24 blackhole;\n"
         "  route 203.0.113.0/24 blackhole; route 10.99.0.0/24 blackhole;\n"
         "  route 10.65.2.0/26 blackhole; route 10.65.2.8/29 blackhole; }\n"
         "protocol static s6 { ipv6; route ::/0 blackhole; route 2001:db8:100::/48 blackhole;\n"
         "  route 2001:db8:66::/48 blackhole; }\n"
         "protocol bgp t4 {\n" +
         common + "  neighbor 10.99.0.1 as " + std::to_string(kTartanAs) +
         ";\n  ipv4 { import all; export where source = RTS_STATIC; };\n}\n"
         "protocol bgp t6 {\n" +
         common + "  neighbor fd99::1 as " + std::to_string(kTartanAs) +
         ";\n  ipv6 { import all; export where source = RTS_STATIC; };\n}\n";
}

model::BGPFilterRule rejectExactly(const std::string& cidr) {
  model::BGPFilterRule r;
  r.cidr = cidr;
  r.matchOperator = "Equal";
  r.action = "Reject";
  return r;
}

model::Resource importFilter() {
  model::BGPFilter f;
  f.metadata.name = "tor-import";
  f.spec.importV4 = {rejectExactly("203.0.113.0/24")};
  f.spec.importV6 = {rejectExactly("2001:db8:66::/48")};
  return f;
}

model::Resource disabledPool(const std::string& name, const std::string& cidr) {
  auto pool = ipPool(name, cidr);
  std::get<model::IPPool>(pool).spec.disabled = true;
  return pool;
}

model::Resource filteredPeer(const std::string& name, const std::string& address) {
  auto peer = bgpPeer(name, address, kBirdAs);
  std::get<model::BGPPeer>(peer).spec.filters = {"tor-import"};
  return peer;
}

}  // namespace

TEST_CASE(
    "tartan-bgpd imports what BIRD 2 sends as Calico does: default routes and prefixes outside every pool, "
    "not what a BGPFilter rejects; a disabled pool's blocks stay announced",
    "[interop][bird][import]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  TartanAndBird lab("i");
  writeResources(lab.dir_ / "store",
                 {bgpConfiguration(kTartanAs, false), node("node1", "10.99.0.1/24", "fd99::1/64"),
                  disabledPool("old4", "10.65.0.0/16"), disabledPool("old6", "fd65::/48"),
                  ipamBlock("10.65.1.0/26", "node1"), ipamBlock("10.65.2.0/26", "node1"),
                  ipamBlock("fd65::/122", "node1"), importFilter(), filteredPeer("tor4", "10.99.0.2"),
                  filteredPeer("tor6", "fd99::2")});
  lab.startBird(torConfig());
  lab.startTartan();
  LAB_REQUIRE(lab, eventually([&] { return lab.birdEstablished("t4") && lab.birdEstablished("t6"); }, 30s));

  const auto installed = [&](const std::string& prefix, bool v6) {
    const auto route = routeIn(lab.tartanNs_, prefix, v6);
    return contains(route, v6 ? "via fd99::2" : "via 10.99.0.2") && contains(route, "proto 117");
  };
  // The default routes and the prefixes outside every IP pool reach the node's kernel.
  LAB_REQUIRE(lab,
              eventually([&] { return installed("default", false) && installed("default", true); }, 15s));
  LAB_REQUIRE(lab, eventually([&] { return installed("198.51.100.0/24", false); }, 15s));
  LAB_REQUIRE(lab, eventually([&] { return installed("2001:db8:100::/48", true); }, 15s));

  // The disabled pools' blocks: still announced, and in BIRD's kernel via tartan.
  LAB_REQUIRE(
      lab, eventually([&] { return contains(routeIn(lab.birdNs_, "10.65.1.0/26"), "via 10.99.0.1"); }, 15s));
  LAB_REQUIRE(
      lab,
      eventually([&] { return contains(routeIn(lab.birdNs_, "fd65::/122", true), "via fd99::1"); }, 15s));
  // ... and their blackholes at home.
  CHECK(contains(routeIn(lab.tartanNs_, "10.65.1.0/26"), "blackhole"));
  CHECK(contains(routeIn(lab.tartanNs_, "fd65::/122", true), "blackhole"));

  // Rejected by the BGPFilter: never in the kernel, for as long as we look.
  INFO(lab.diagnostics());
  CHECK(holdsThroughout(
      [&] {
        return routeIn(lab.tartanNs_, "203.0.113.0/24").empty() &&
               routeIn(lab.tartanNs_, "2001:db8:66::/48", true).empty();
      },
      2s));
  // The link's own subnet: BIRD's announcement does not displace the connected route (the
  // same key), so the session that runs over it stays up.
  const auto link = routeIn(lab.tartanNs_, "10.99.0.0/24");
  CHECK(contains(link, "proto kernel"));
  CHECK_FALSE(contains(link, "proto 117"));
  CHECK(contains(lab.tartan_->log(), "fib: 10.99.0.0/24 not installed"));
  CHECK(lab.birdEstablished("t4"));
  // Tartan's own block announced by BIRD: the blackhole stays, alone; a part of it is installed.
  CHECK(eventually([&] { return installed("10.65.2.8/29", false); }, 10s));
  const auto block = routeIn(lab.tartanNs_, "10.65.2.0/26");
  CHECK(contains(block, "blackhole"));
  CHECK(countOf(block, "10.65.2.0/26") == 1);
  // Exactly one default route per family: ours.
  CHECK(countOf(routeIn(lab.tartanNs_, "default"), "default") == 1);
  CHECK(countOf(routeIn(lab.tartanNs_, "default", true), "default") == 1);
  CHECK(lab.tartan_->running());
}
