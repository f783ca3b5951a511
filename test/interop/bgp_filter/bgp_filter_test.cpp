// BGPFilter and BGPConfiguration prefix advertisements on the real path: tartan-bgpd (AS 64512)
// and BIRD 2 (AS 65001), each in its own namespace joined by a veth, eBGP over IPv4.
//
// Tartan owns the blocks 10.65.1.0/26, 10.65.2.0/26 and 10.65.3.0/26; BIRD announces
// 10.66.1.0/24, 10.66.2.0/24 and 10.66.3.0/24 from a static protocol. The BGPPeer names one
// BGPFilter:
//  - export: 10.65.1.0/26 accepted with a standard and a large community and AS 65100 prepended;
//    10.65.2.0/26 rejected; 10.65.3.0/26 matches no rule and takes the default path, which adds
//    the prefix advertisement's community (named "tagged" in the BGPConfiguration);
//  - import: 10.66.2.0/24 rejected; 10.66.1.0/24, from a path starting with AS 65001, accepted
//    with priority 300 (the kernel metric tartan installs it with); 10.66.3.0/24 matches no rule
//    and comes in by the default, Calico's `import all` (no IP pool covers 10.66.0.0/16), with
//    the default metric.
#include "interop/bgp/harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

using namespace tartan::test;
using namespace tartan::test::bgp;
using namespace std::chrono_literals;
namespace model = tartan::model;

namespace {

constexpr std::uint32_t kTartanAs = 64512;
constexpr std::uint32_t kBirdAs = 65001;

// BIRD's static routes and its eBGP session t4 to tartan, exporting by `exportClause`.
std::string birdConfig(const std::string& routes, const std::string& exportClause) {
  return "router id 10.99.0.2;\n"
         "protocol device { scan time 1; }\n"
         "protocol static s4 { ipv4; " +
         routes +
         " }\n"
         "protocol bgp t4 {\n"
         "  local as " +
         std::to_string(kBirdAs) +
         ";\n"
         "  hold time 9; connect retry time 2; error wait time 1, 2;\n"
         "  neighbor 10.99.0.1 as " +
         std::to_string(kTartanAs) +
         ";\n"
         "  ipv4 { import all; " +
         exportClause +
         " };\n"
         "}\n";
}

std::string birdConfig() {
  return birdConfig(
      "route 10.66.1.0/24 blackhole; route 10.66.2.0/24 blackhole; route 10.66.3.0/24 blackhole;",
      "export where source = RTS_STATIC;");
}

model::BGPFilterRule equalRule(const std::string& cidr, const std::string& action) {
  model::BGPFilterRule r;
  r.cidr = cidr;
  r.matchOperator = "Equal";
  r.action = action;
  return r;
}

model::Resource policyFilter(int priority = 300, bool rejectBlock2 = true, bool rejectBlock3 = false) {
  model::BGPFilter f;
  f.metadata.name = "tor-policy";
  auto tagged = equalRule("10.65.1.0/26", "Accept");
  tagged.operations = {{model::BGPFilterAddCommunity{"65000:100"}, {}, {}},
                       {model::BGPFilterAddCommunity{"65000:1:2"}, {}, {}},
                       {{}, model::BGPFilterPrependASPath{{model::ASNumber{65100}}}, {}}};
  f.spec.exportV4 = {tagged};
  if (rejectBlock2) f.spec.exportV4.push_back(equalRule("10.65.2.0/26", "Reject"));
  if (rejectBlock3) f.spec.exportV4.push_back(equalRule("10.65.3.0/26", "Reject"));
  auto preferred = equalRule("10.66.1.0/24", "Accept");
  preferred.asPathPrefix = {model::ASNumber{kBirdAs}};
  preferred.operations = {{{}, {}, model::BGPFilterSetPriority{priority}}};
  f.spec.importV4 = {equalRule("10.66.2.0/24", "Reject"), preferred};
  return f;
}

class FilterLab : public TartanAndBird {
 public:
  FilterLab() : TartanAndBird("f") {
    auto config = bgpConfiguration(kTartanAs, false);
    auto& spec = std::get<model::BGPConfiguration>(config).spec;
    spec.communities = {{"tagged", "64512:7"}};
    spec.prefixAdvertisements = {{"10.65.0.0/16", {"tagged"}}};
    auto peer = bgpPeer("bird4", "10.99.0.2", kBirdAs);
    std::get<model::BGPPeer>(peer).spec.filters = {"tor-policy"};
    std::vector<model::Resource> resources{
        config,
        node("node1", "10.99.0.1/24", ""),
        ipPool("pool4", "10.65.0.0/16"),
        ipamBlock("10.65.1.0/26", "node1"),
        ipamBlock("10.65.2.0/26", "node1"),
        ipamBlock("10.65.3.0/26", "node1"),
        policyFilter(),
        peer,
    };
    writeResources(dir_ / "store", resources);
    startBird(birdConfig());
    startTartan();
  }
};

}  // namespace

TEST_CASE("BGPFilter operations and reject rules change what BIRD 2 receives and what tartan installs",
          "[interop][bird][bgp-filter]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  FilterLab lab;
  LAB_REQUIRE(lab, eventually([&] { return contains(lab.birdc("show protocols t4"), "Established"); }, 30s));

  // Export, accepted with operations: the communities and the AS path BIRD holds. Our AS comes
  // first, then the prepended one (the filter runs before eBGP's own prepend, as in BIRD).
  LAB_REQUIRE(
      lab, eventually([&] { return contains(lab.birdc("show route 10.65.1.0/26"), "10.65.1.0/26"); }, 15s));
  LAB_REQUIRE(
      lab, eventually([&] { return contains(lab.birdc("show route 10.65.3.0/26"), "10.65.3.0/26"); }, 15s));
  const auto tagged = lab.birdc("show route 10.65.1.0/26 all");
  INFO(tagged);
  CHECK(contains(tagged, "BGP.as_path: 64512 65100"));
  CHECK(contains(tagged, "(65000,100)"));
  CHECK(contains(tagged, "(65000, 1, 2)"));
  CHECK_FALSE(contains(tagged, "(64512,7)"));  // a filter's Accept bypasses the default path
  // No rule: the default path, with the prefix advertisement's community and no prepend.
  const auto plain = lab.birdc("show route 10.65.3.0/26 all");
  INFO(plain);
  CHECK(contains(plain, "(64512,7)"));
  CHECK(contains(plain, "BGP.as_path: 64512\n"));
  // Rejected: never sent, though it was originated with the others.
  CHECK_FALSE(contains(lab.birdc("show route 10.65.2.0/26"), "10.65.2.0/26"));

  // Import: the accepted route with the metric setPriority asked for, the rejected one absent,
  // the unmatched one by the default with the kernel's default metric.
  LAB_REQUIRE(
      lab,
      eventually([&] { return contains(routeIn(lab.tartanNs_, "10.66.3.0/24"), "via 10.99.0.2"); }, 15s));
  LAB_REQUIRE(
      lab,
      eventually([&] { return contains(routeIn(lab.tartanNs_, "10.66.1.0/24"), "via 10.99.0.2"); }, 15s));
  const auto preferred = routeIn(lab.tartanNs_, "10.66.1.0/24");
  INFO(preferred);
  CHECK(contains(preferred, "metric 300"));
  CHECK(contains(preferred, "proto 117"));
  CHECK_FALSE(contains(routeIn(lab.tartanNs_, "10.66.3.0/24"), "metric"));
  CHECK(routeIn(lab.tartanNs_, "10.66.2.0/24").empty());
  // Exactly one kernel route for the prefix: no leftover of another metric.
  CHECK(std::count(preferred.begin(), preferred.end(), '\n') == 0);

  // A live change of the filter: the new priority replaces the old kernel route (not a second
  // route beside it), the block no longer rejected reaches BIRD, the newly rejected one is
  // withdrawn from it, and the routes the filter does not touch stay in tartan's kernel.
  writeResources(lab.dir_ / "store", {policyFilter(400, false, true)});
  LAB_REQUIRE(
      lab, eventually([&] { return contains(routeIn(lab.tartanNs_, "10.66.1.0/24"), "metric 400"); }, 20s));
  LAB_REQUIRE(
      lab, eventually([&] { return contains(lab.birdc("show route 10.65.2.0/26"), "10.65.2.0/26"); }, 20s));
  const auto changed = routeIn(lab.tartanNs_, "10.66.1.0/24");
  INFO(changed);
  CHECK(std::count(changed.begin(), changed.end(), '\n') == 0);
  CHECK(contains(lab.birdc("show route 10.65.2.0/26 all"), "(64512,7)"));  // now on the default path
  LAB_REQUIRE(
      lab, eventually([&] { return !contains(lab.birdc("show route 10.65.3.0/26"), "10.65.3.0/26"); }, 20s));
  CHECK(contains(routeIn(lab.tartanNs_, "10.66.3.0/24"), "via 10.99.0.2"));
  CHECK(routeIn(lab.tartanNs_, "10.66.2.0/24").empty());
}

namespace {

// BIRD announces 10.67.1.0/24 with tartan's AS once in its path and 10.67.2.0/24 with it twice
// (outside every IP pool: imported all the same); the BGPPeer allows our AS once
// (numAllowedLocalASNumbers: 1). The cluster-wide BGPConfiguration
// names a service cluster IP range, which tartan announces and does not install.
std::string birdLoopConfig() {
  const std::string as = std::to_string(kTartanAs);
  return birdConfig("route 10.67.1.0/24 blackhole; route 10.67.2.0/24 blackhole;",
                    "export filter { if source != RTS_STATIC then reject; bgp_path.prepend(" + as +
                        "); if net = 10.67.2.0/24 then bgp_path.prepend(" + as + "); accept; };");
}

model::Resource serviceConfiguration(std::vector<std::string> clusterIPs) {
  auto config = bgpConfiguration(kTartanAs, false);
  for (auto& cidr : clusterIPs)
    std::get<model::BGPConfiguration>(config).spec.serviceClusterIPs.push_back({cidr});
  return config;
}

}  // namespace

TEST_CASE(
    "service cluster IPs are announced to BIRD 2 and not installed; numAllowedLocalASNumbers lets our AS in "
    "once",
    "[interop][bird][services]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  TartanAndBird lab("s");
  auto peer = bgpPeer("bird4", "10.99.0.2", kBirdAs);
  std::get<model::BGPPeer>(peer).spec.numAllowedLocalASNumbers = 1;
  writeResources(lab.dir_ / "store",
                 {serviceConfiguration({"10.96.0.0/12"}), node("node1", "10.99.0.1/24", ""),
                  ipPool("pool4", "10.65.0.0/16"), ipamBlock("10.65.1.0/26", "node1"), peer});
  lab.startBird(birdLoopConfig());
  lab.startTartan();
  LAB_REQUIRE(lab, eventually([&] { return contains(lab.birdc("show protocols t4"), "Established"); }, 30s));

  LAB_REQUIRE(
      lab, eventually([&] { return contains(lab.birdc("show route 10.96.0.0/12"), "10.96.0.0/12"); }, 15s));
  CHECK(contains(lab.birdc("show route 10.96.0.0/12 all"), "BGP.as_path: 64512\n"));
  CHECK(contains(lab.birdc("show route 10.65.1.0/26"), "10.65.1.0/26"));  // the block, as ever
  // Announced, not installed: kube-proxy owns the service addresses on the node.
  CHECK(routeIn(lab.tartanNs_, "10.96.0.0/12").empty());

  // Our AS once in the path: allowed by the peer; twice: a loop.
  LAB_REQUIRE(
      lab,
      eventually([&] { return contains(routeIn(lab.tartanNs_, "10.67.1.0/24"), "via 10.99.0.2"); }, 15s));
  CHECK(routeIn(lab.tartanNs_, "10.67.2.0/24").empty());

  // Live: the range goes from the configuration, BIRD sees it withdrawn; the session stays up.
  const auto since = lab.birdc("show protocols t4");
  writeResources(lab.dir_ / "store", {serviceConfiguration({})});
  LAB_REQUIRE(
      lab, eventually([&] { return !contains(lab.birdc("show route 10.96.0.0/12"), "10.96.0.0/12"); }, 15s));
  CHECK(contains(lab.birdc("show route 10.65.1.0/26"), "10.65.1.0/26"));
  CHECK(lab.birdc("show protocols t4") == since);
}
