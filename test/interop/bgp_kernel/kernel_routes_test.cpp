// tartan-bgpd announces kernel routes chosen by --announce-kernel-routes to a real BIRD 2.
//
// tartan (AS 64512) is 10.99.0.1 / fd99::1, BIRD (AS 65001) 10.99.0.2 / fd99::2. Tartan announces
// static routes inside 198.51.100.0/24 and 2001:db8:100::/48, read from its namespace's main
// table: those there before it starts (the dump) and those added later (the route monitor); BIRD
// exports what it learns over BGP into its kernel. A BGPFilter on the IPv4 peer rejects routes
// whose output interface is "kr1", so the `interface` match is checked on kernel routes too.
#include "interop/bgp/harness.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace tartan;
using namespace tartan::test;
using namespace tartan::test::bgp;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t kTartanAs = 64512;
constexpr std::uint32_t kBirdAs = 65001;

std::string birdConfig() {
  const std::string common = "  local as " + std::to_string(kBirdAs) +
                             ";\n  hold time 9; connect retry time 2; error wait time 1, 2;\n";
  return "router id 10.99.0.2;\n"
         "protocol device { scan time 1; }\n"
         "protocol kernel k4 { ipv4 { import none; export where source = RTS_BGP; }; }\n"
         "protocol kernel k6 { ipv6 { import none; export where source = RTS_BGP; }; }\n"
         "protocol bgp t4 {\n" +
         common + "  neighbor 10.99.0.1 as " + std::to_string(kTartanAs) +
         ";\n  ipv4 { import all; export none; };\n}\n"
         "protocol bgp t6 {\n" +
         common + "  neighbor fd99::1 as " + std::to_string(kTartanAs) +
         ";\n  ipv6 { import all; export none; };\n}\n";
}

model::Resource interfaceFilter() {
  model::BGPFilter f;
  f.metadata.name = "no-kr1";
  model::BGPFilterRule r;
  r.interface = "kr1";
  r.action = "Reject";
  f.spec.exportV4 = {r};
  return f;
}

class KernelLab : public TartanAndBird {
 public:
  KernelLab() : TartanAndBird("k") {
    // Interfaces for the operator's routes, inside tartan's namespace only.
    tartanNs_.execOrThrow("ip link add kr0 type veth peer name kr1");
    tartanNs_.execOrThrow("ip link set kr0 up");
    tartanNs_.execOrThrow("ip link set kr1 up");
    auto peer4 = bgpPeer("bird4", "10.99.0.2", kBirdAs);
    std::get<model::BGPPeer>(peer4).spec.filters = {"no-kr1"};
    std::vector<model::Resource> resources{
        bgpConfiguration(kTartanAs, false),
        node("node1", "10.99.0.1/24", "fd99::1/64"),
        interfaceFilter(),
        peer4,
        bgpPeer("bird6", "fd99::2", kBirdAs),
    };
    writeResources(dir_ / "store", resources);
  }

  void start() {
    startBird(birdConfig());
    startTartan({"--announce-kernel-routes", "protocol=static,prefix=198.51.100.0/24",
                 "--announce-kernel-routes", "protocol=static,prefix=2001:db8:100::/48"});
  }

  bool atBird(const std::string& prefix, bool v6 = false) {
    return contains(routeIn(birdNs_, prefix, v6), v6 ? "via fd99::1" : "via 10.99.0.1");
  }
};

}  // namespace

TEST_CASE("kernel routes chosen by --announce-kernel-routes reach BIRD 2 and its kernel, and leave with them",
          "[interop][bird][kernel-routes]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  KernelLab lab;
  // Before tartan-bgpd starts: found by its first dump.
  lab.tartanNs_.execOrThrow("ip route add 198.51.100.128/26 dev kr0 proto static");
  lab.start();
  LAB_REQUIRE(lab, eventually([&] { return lab.birdEstablished("t4") && lab.birdEstablished("t6"); }, 30s));
  LAB_REQUIRE(lab, eventually([&] { return lab.atBird("198.51.100.128/26"); }, 10s));

  // Routes the specs do not choose: another protocol, outside the prefix, or Tartan's own.
  lab.tartanNs_.execOrThrow("ip route add 198.51.100.192/26 dev kr0 proto boot");
  lab.tartanNs_.execOrThrow("ip route add 203.0.113.0/24 dev kr0 proto static");
  lab.tartanNs_.execOrThrow("ip route add 198.51.100.32/27 dev kr0 proto 117");
  // Chosen, but rejected towards bird4 by the BGPFilter on its output interface.
  lab.tartanNs_.execOrThrow("ip route add 198.51.100.64/27 dev kr1 proto static");
  // Added while running: followed by the route monitor, both families.
  lab.tartanNs_.execOrThrow("ip route add 198.51.100.0/27 dev kr0 proto static");
  lab.tartanNs_.execOrThrow("ip -6 route add 2001:db8:100:1::/64 dev kr0 proto static");
  LAB_REQUIRE(lab, eventually([&] { return lab.atBird("198.51.100.0/27"); }, 10s));
  LAB_REQUIRE(lab, eventually([&] { return lab.atBird("2001:db8:100:1::/64", true); }, 10s));
  LAB_REQUIRE(lab, holdsThroughout(
                       [&] {
                         return routeIn(lab.birdNs_, "198.51.100.192/26").empty() &&
                                routeIn(lab.birdNs_, "203.0.113.0/24").empty() &&
                                routeIn(lab.birdNs_, "198.51.100.32/27").empty() &&
                                routeIn(lab.birdNs_, "198.51.100.64/27").empty();
                       },
                       2s));
  // Tartan announces the operator's route but does not install anything of its own for it.
  LAB_REQUIRE(lab, contains(routeIn(lab.tartanNs_, "198.51.100.0/27"), "proto static"));
  LAB_REQUIRE(lab, !contains(lab.tartanNs_.exec("ip route show proto 117").output, "198.51.100.0/27"));

  // Deleted in the kernel: withdrawn at BIRD.
  lab.tartanNs_.execOrThrow("ip route del 198.51.100.0/27 dev kr0 proto static");
  lab.tartanNs_.execOrThrow("ip -6 route del 2001:db8:100:1::/64 dev kr0 proto static");
  LAB_REQUIRE(lab, eventually([&] { return routeIn(lab.birdNs_, "198.51.100.0/27").empty(); }, 10s));
  LAB_REQUIRE(lab,
              eventually([&] { return routeIn(lab.birdNs_, "2001:db8:100:1::/64", true).empty(); }, 10s));
  INFO(lab.diagnostics());
  CHECK(lab.atBird("198.51.100.128/26"));
  CHECK(lab.tartan_->running());
}
