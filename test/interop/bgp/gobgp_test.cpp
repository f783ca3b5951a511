// tartan-bgpd against GoBGP (gobgpd), each in its own namespace joined by a veth. GoBGP has no
// kernel of its own here (it would need zebra), so its side is read with the gobgp CLI.
#include "harness.hpp"

#include <tartan/bgp/status_client.hpp>

#include <catch2/catch.hpp>

#include <fstream>

using namespace tartan::test;
using namespace tartan::test::bgp;
using namespace std::chrono_literals;

namespace {

std::string gobgpConfig(std::uint32_t as, std::uint32_t tartanAs) {
  auto neighbor = [&](const std::string& address, const std::string& family) {
    return "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"" + address +
           "\"\n    peer-as = " + std::to_string(tartanAs) +
           "\n  [neighbors.timers.config]\n    connect-retry = 2\n    hold-time = 9\n    keepalive-interval "
           "= 3\n"
           "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"" +
           family + "\"\n";
  };
  return "[global.config]\n  as = " + std::to_string(as) +
         "\n  router-id = \"10.99.0.2\"\n  port = 179\n  local-address-list = [\"10.99.0.2\", "
         "\"fd99::2\"]\n" +
         neighbor("10.99.0.1", "ipv4-unicast") + neighbor("fd99::1", "ipv6-unicast");
}

class GobgpLab {
 public:
  GobgpLab(std::uint32_t tartanAs, std::uint32_t gobgpAs) : tartanNs_("bgpd"), peerNs_("gobgp") {
    linkTartanToPeer(tartanNs_, peerNs_, "g");
    std::filesystem::create_directories(dir_.path() / "store");
    writeResources(dir_ / "store",
                   {bgpConfiguration(tartanAs, false), node("node1", "10.99.0.1/24", "fd99::1/64"),
                    ipPool("pool4", "10.65.0.0/16"), ipPool("pool6", "fd65::/48"),
                    ipPool("ext4", "10.66.0.0/16"), ipPool("ext6", "fd66::/16"),
                    ipamBlock("10.65.1.0/26", "node1"), ipamBlock("fd65:0:0:1::/122", "node1"),
                    bgpPeer("gobgp4", "10.99.0.2", gobgpAs), bgpPeer("gobgp6", "fd99::2", gobgpAs)});
    std::ofstream(dir_ / "gobgpd.toml") << gobgpConfig(gobgpAs, tartanAs);
    gobgp_ = std::make_unique<Process>(
        peerNs_, std::vector<std::string>{"gobgpd", "-f", dir_ / "gobgpd.toml", "-t", "toml"},
        dir_ / "gobgpd.log");
    tartan_ = std::make_unique<Process>(
        tartanNs_,
        std::vector<std::string>{bgpdBinary(), "--datastore", "file:" + (dir_ / "store"), "--node", "node1",
                                 "--status-socket", dir_ / "bgpd.sock", "--hold-time", "9", "--connect-retry",
                                 "2", "--log-level", "debug"},
        dir_ / "bgpd.log");
  }

  std::string gobgp(const std::string& args) { return peerNs_.exec("gobgp " + args).output; }
  bool established() {
    const auto out = gobgp("neighbor");
    std::size_t n = 0, pos = 0;
    while ((pos = out.find("Establ", pos)) != std::string::npos) {
      ++n;
      ++pos;
    }
    return n == 2;
  }
  std::string diagnostics() {
    return "--- bgpd log ---\n" + tartan_->log() + "\n--- gobgpd log ---\n" + gobgp_->log() +
           "\n--- neighbors ---\n" + gobgp("neighbor");
  }

  NetNamespace tartanNs_;
  NetNamespace peerNs_;
  TempDir dir_;
  std::unique_ptr<Process> gobgp_;
  std::unique_ptr<Process> tartan_;
};


}  // namespace

TEST_CASE("GoBGP: eBGP and iBGP sessions carry IPv4 and IPv6 routes both ways", "[interop][gobgp]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  for (const std::uint32_t gobgpAs : {65002u, 64512u}) {
    DYNAMIC_SECTION((gobgpAs == 64512u ? "iBGP" : "eBGP")) {
      GobgpLab lab(64512, gobgpAs);
      LAB_REQUIRE(lab, waitFor([&] { return lab.established(); }, 40s));
      lab.gobgp("global rib add 10.66.2.0/24 -a ipv4");
      lab.gobgp("global rib add fd66:2::/64 -a ipv6");
      // GoBGP's routes in tartan's kernel.
      LAB_REQUIRE(
          lab,
          waitFor([&] { return contains(routeIn(lab.tartanNs_, "10.66.2.0/24"), "via 10.99.0.2"); }, 15s));
      LAB_REQUIRE(
          lab,
          waitFor([&] { return contains(routeIn(lab.tartanNs_, "fd66:2::/64", true), "via fd99::2"); }, 15s));
      // Tartan's blocks in GoBGP's RIB, with tartan as next hop.
      LAB_REQUIRE(lab,
                  waitFor([&] { return contains(lab.gobgp("global rib -a ipv4"), "10.65.1.0/26"); }, 15s));
      LAB_REQUIRE(lab, contains(lab.gobgp("global rib -a ipv4"), "10.99.0.1"));
      LAB_REQUIRE(
          lab, waitFor([&] { return contains(lab.gobgp("global rib -a ipv6"), "fd65:0:0:1::/122"); }, 15s));
      // Withdrawal of one route, then of everything when GoBGP stops.
      lab.gobgp("global rib del 10.66.2.0/24 -a ipv4");
      LAB_REQUIRE(lab, waitFor([&] { return routeIn(lab.tartanNs_, "10.66.2.0/24").empty(); }, 15s));
      lab.gobgp_->stop();
      LAB_REQUIRE(lab, waitFor([&] { return routeIn(lab.tartanNs_, "fd66:2::/64", true).empty(); }, 30s));
    }
  }
}
