// tartan-bgpd against GoBGP (gobgpd), each in its own namespace joined by a veth. GoBGP has no
// kernel of its own here (it would need zebra), so its side is read with the gobgp CLI.
#include "harness.hpp"

#include <tartan/bgp/status_client.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>

using namespace tartan::test;
using namespace tartan::test::bgp;
using namespace std::chrono_literals;

namespace {

struct GobgpOptions {
  std::uint32_t gobgpAs = 65002;
  std::string password;        // GoBGP's side of TCP-MD5 (auth-password)
  std::string tartanPassword;  // tartan's side (BGPPeer.spec.password)
  bool gracefulRestart = false;
  std::optional<std::string> tartanMaxRestartTime;  // BGPPeer.spec.maxRestartTime
};

// `adminDown`: the neighbours start disabled, so that a restarted GoBGP can load its routes
// before any session comes up (its End-of-RIB must follow them, RFC 4724 §4.1).
std::string gobgpConfig(const GobgpOptions& o, std::uint32_t tartanAs, bool adminDown) {
  auto neighbor = [&](const std::string& address, const std::string& family) {
    std::string n = "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"" + address +
                    "\"\n    peer-as = " + std::to_string(tartanAs) + "\n";
    if (!o.password.empty()) n += "    auth-password = \"" + o.password + "\"\n";
    if (adminDown) n += "    admin-down = true\n";
    n +=
        "  [neighbors.timers.config]\n    connect-retry = 2\n    hold-time = 9\n    keepalive-interval = 3\n";
    // GoBGP's own restart time is long: the bound that matters is tartan's maxRestartTime.
    if (o.gracefulRestart)
      n += "  [neighbors.graceful-restart.config]\n    enabled = true\n    restart-time = 120\n";
    n += "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"" + family +
         "\"\n";
    if (o.gracefulRestart)
      n += "    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n";
    return n;
  };
  return "[global.config]\n  as = " + std::to_string(o.gobgpAs) +
         "\n  router-id = \"10.99.0.2\"\n  port = 179\n  local-address-list = [\"10.99.0.2\", "
         "\"fd99::2\"]\n" +
         neighbor("10.99.0.1", "ipv4-unicast") + neighbor("fd99::1", "ipv6-unicast");
}

class GobgpLab {
 public:
  GobgpLab(std::uint32_t tartanAs, GobgpOptions options)
      : tartanNs_("bgpd"), peerNs_("gobgp"), options_(std::move(options)) {
    linkTartanToPeer(tartanNs_, peerNs_, "g");
    const std::string secret = options_.tartanPassword.empty() ? "" : "gobgpsecret";
    if (!secret.empty()) writeSecret(dir_ / "secrets", secret, options_.tartanPassword);
    std::filesystem::create_directories(dir_.path() / "store");
    writeResources(dir_ / "store",
                   {bgpConfiguration(tartanAs, false), node("node1", "10.99.0.1/24", "fd99::1/64"),
                    ipPool("pool4", "10.65.0.0/16"), ipPool("pool6", "fd65::/48"),
                    ipPool("ext4", "10.66.0.0/16"), ipPool("ext6", "fd66::/16"),
                    ipamBlock("10.65.1.0/26", "node1"), ipamBlock("fd65:0:0:1::/122", "node1"),
                    bgpPeer("gobgp4", "10.99.0.2", options_.gobgpAs, secret, std::nullopt,
                            options_.tartanMaxRestartTime),
                    bgpPeer("gobgp6", "fd99::2", options_.gobgpAs, secret, std::nullopt,
                            options_.tartanMaxRestartTime)});
    std::ofstream(dir_ / "gobgpd.toml") << gobgpConfig(options_, tartanAs, false);
    std::ofstream(dir_ / "gobgpd-restart.toml") << gobgpConfig(options_, tartanAs, true);
    gobgp_ = std::make_unique<Process>(
        peerNs_, std::vector<std::string>{"gobgpd", "-f", dir_ / "gobgpd.toml", "-t", "toml"},
        dir_ / "gobgpd.log");
    tartan_ = std::make_unique<Process>(tartanNs_, bgpdCommand(dir_), dir_ / "bgpd.log");
  }

  void announce() {
    gobgp("global rib add 10.66.2.0/24 -a ipv4");
    gobgp("global rib add fd66:2::/64 -a ipv6");
  }
  // GoBGP comes back after a crash (RFC 4724 §4.1): restart flag set, its routes loaded before
  // the neighbours are enabled, so that its End-of-RIB comes after them.
  void restartGobgp() {
    gobgp_ = std::make_unique<Process>(
        peerNs_, std::vector<std::string>{"gobgpd", "-f", dir_ / "gobgpd-restart.toml", "-t", "toml", "-r"},
        dir_ / "gobgpd.log");
    eventually([&] { return contains(gobgp("global"), "AS:"); }, 10s);
    announce();
    gobgp("neighbor 10.99.0.1 enable");
    gobgp("neighbor fd99::1 enable");
  }
  void startTartan() { tartan_ = std::make_unique<Process>(tartanNs_, bgpdCommand(dir_), dir_ / "bgpd.log"); }
  bool bothEstablished() { return established() && tartanEstablished(dir_ / "bgpd.sock", 2); }

  std::string gobgp(const std::string& args) { return peerNs_.exec("gobgp " + args + " 2>&1").output; }
  bool established() {
    const auto out = gobgp("neighbor");
    std::size_t n = 0, pos = 0;
    while ((pos = out.find("Establ", pos)) != std::string::npos) {
      ++n;
      ++pos;
    }
    return n == 2;
  }
  // What the graceful-restart tests poll: each side's copy of the other's routes.
  bool gobgpHasTartanRoutes() {
    const auto v4 = gobgp("global rib -a ipv4");
    return contains(v4, "10.65.1.0/26") && contains(v4, "10.99.0.1") &&
           contains(gobgp("global rib -a ipv6"), "fd65:0:0:1::/122");
  }
  bool tartanForwardsToGobgp() {
    return contains(routeIn(tartanNs_, "10.66.2.0/24"), "via 10.99.0.2") &&
           contains(routeIn(tartanNs_, "fd66:2::/64", true), "via fd99::2");
  }
  // The same, as read, for a failure message: which side lost what.
  std::string gobgpRib() {
    return "GoBGP's RIB:\n" + gobgp("global rib -a ipv4") + gobgp("global rib -a ipv6");
  }
  std::string tartanKernel() {
    return "tartan's kernel: " + routeIn(tartanNs_, "10.66.2.0/24") + " / " +
           routeIn(tartanNs_, "fd66:2::/64", true) + "\n";
  }

  std::string diagnostics() {
    return "--- bgpd log ---\n" + tartan_->log() + "\n--- gobgpd log ---\n" + gobgp_->log() +
           "\n--- neighbors ---\n" + gobgp("neighbor");
  }

  NetNamespace tartanNs_;
  NetNamespace peerNs_;
  GobgpOptions options_;
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
      GobgpLab lab(64512, GobgpOptions{gobgpAs});
      LAB_REQUIRE(lab, eventually([&] { return lab.established(); }, 40s));
      lab.announce();
      // GoBGP's routes in tartan's kernel.
      LAB_REQUIRE(
          lab,
          eventually([&] { return contains(routeIn(lab.tartanNs_, "10.66.2.0/24"), "via 10.99.0.2"); }, 15s));
      LAB_REQUIRE(
          lab,
          eventually([&] { return contains(routeIn(lab.tartanNs_, "fd66:2::/64", true), "via fd99::2"); },
                     15s));
      // Tartan's blocks in GoBGP's RIB, with tartan as next hop.
      LAB_REQUIRE(lab,
                  eventually([&] { return contains(lab.gobgp("global rib -a ipv4"), "10.65.1.0/26"); }, 15s));
      LAB_REQUIRE(lab, contains(lab.gobgp("global rib -a ipv4"), "10.99.0.1"));
      LAB_REQUIRE(
          lab,
          eventually([&] { return contains(lab.gobgp("global rib -a ipv6"), "fd65:0:0:1::/122"); }, 15s));
      // Withdrawal of one route, then of everything when GoBGP stops.
      lab.gobgp("global rib del 10.66.2.0/24 -a ipv4");
      LAB_REQUIRE(lab, eventually([&] { return routeIn(lab.tartanNs_, "10.66.2.0/24").empty(); }, 15s));
      lab.gobgp_->stop();
      LAB_REQUIRE(lab, eventually([&] { return routeIn(lab.tartanNs_, "fd66:2::/64", true).empty(); }, 30s));
    }
  }
}

TEST_CASE(
    "GoBGP: default routes and prefixes outside every pool are imported; link-local and loopback ones never "
    "are",
    "[interop][gobgp][import]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  GobgpLab lab(64512, GobgpOptions{});
  LAB_REQUIRE(lab, eventually([&] { return lab.established(); }, 40s));
  // What BIRD would never send (it refuses them itself), GoBGP does: tartan drops them as BIRD does.
  lab.gobgp("global rib add fe80:0:0:1::/64 -a ipv6");
  lab.gobgp("global rib add 127.0.0.0/8 -a ipv4");
  lab.gobgp("global rib add 0.0.0.0/0 -a ipv4");
  lab.gobgp("global rib add ::/0 -a ipv6");
  lab.gobgp("global rib add 198.51.100.0/24 -a ipv4");
  lab.gobgp("global rib add 2001:db8:100::/48 -a ipv6");
  LAB_REQUIRE(lab,
              eventually([&] { return contains(routeIn(lab.tartanNs_, "default"), "via 10.99.0.2"); }, 15s));
  LAB_REQUIRE(
      lab, eventually([&] { return contains(routeIn(lab.tartanNs_, "default", true), "via fd99::2"); }, 15s));
  LAB_REQUIRE(
      lab,
      eventually([&] { return contains(routeIn(lab.tartanNs_, "198.51.100.0/24"), "via 10.99.0.2"); }, 15s));
  LAB_REQUIRE(
      lab,
      eventually([&] { return contains(routeIn(lab.tartanNs_, "2001:db8:100::/48", true), "via fd99::2"); },
                 15s));
  // Sent: GoBGP's Adj-RIB-Out towards tartan holds them.
  REQUIRE(contains(lab.gobgp("neighbor fd99::1 adj-out -a ipv6"), "fe80:0:0:1::/64"));
  REQUIRE(contains(lab.gobgp("neighbor 10.99.0.1 adj-out -a ipv4"), "127.0.0.0/8"));
  INFO(lab.diagnostics());
  CHECK(holdsThroughout(
      [&] {
        return !contains(routeIn(lab.tartanNs_, "fe80:0:0:1::/64", true), "fd99::2") &&
               !contains(lab.tartanNs_.exec("ip route show proto 117").output, "127.0.0.0/8");
      },
      2s));
  CHECK(lab.established());
}

TEST_CASE("GoBGP: TCP-MD5 — a mismatched password is refused", "[interop][gobgp][md5]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  GobgpLab lab(64512, GobgpOptions{65002, "s3cret", "other"});
  // Bounded observation window: several connect attempts on both sides, none may succeed.
  LAB_REQUIRE(lab, !eventually(
                       [&] {
                         return contains(lab.gobgp("neighbor"), "Establ") ||
                                tartanEstablished(lab.dir_ / "bgpd.sock", 1);
                       },
                       10s));
}

// Keyed with TCP-MD5 on both sides, for both directions of graceful restart and for a peer that
// dies for good: the matching password is what lets the sessions come up at all. GoBGP has no
// kernel here, so what it forwards is read from its RIB. Each section builds its own lab, because
// BGPPeer maxRestartTime is two things at once (as BIRD's `graceful restart time` is in Calico):
// the Restart Time tartan asks GoBGP to wait for it (RFC 4724 §3), and tartan's own cap on how
// long it keeps GoBGP's stale routes (§4.2).
TEST_CASE(
    "GoBGP: with matching TCP-MD5 passwords, both sides restart gracefully; a dead peer's routes "
    "go when maxRestartTime runs out",
    "[interop][gobgp][md5][graceful-restart]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  auto bringUp = [](GobgpLab& lab) {
    LAB_REQUIRE(lab, eventually([&] { return lab.bothEstablished(); }, 40s));
    lab.announce();
    LAB_REQUIRE(lab,
                eventually([&] { return lab.gobgpHasTartanRoutes() && lab.tartanForwardsToGobgp(); }, 20s));
  };

  SECTION("tartan-bgpd restarts: GoBGP keeps tartan's routes, tartan's kernel keeps GoBGP's") {
    // No maxRestartTime: tartan asks for the default 120 s. GoBGP 3.10 refuses every connection
    // for a fixed 5 s after a session drops (its idle hold), so the restarted tartan is back after
    // 5 s plus up to one ConnectRetry (2 s here) plus its own start under ASan: with 10 s asked
    // for, GoBGP's restart timer ran out first on a slow machine and took tartan's routes.
    GobgpLab lab(64512, GobgpOptions{65002, "s3cret", "s3cret", true});
    bringUp(lab);
    const auto failure = runGracefulRestart({
        .forwarding = [&] { return lab.gobgpHasTartanRoutes() && lab.tartanForwardsToGobgp(); },
        .state = [&] { return lab.gobgpRib() + lab.tartanKernel(); },
        .stop = [&] { lab.tartan_->stop(); },
        .helperSawItDown = [&] { return !lab.established(); },
        .start = [&] { lab.startTartan(); },
        .established = [&] { return lab.bothEstablished(); },
        .endOfRibDone = [&] { return contains(lab.tartan_->log(), "every peer sent End-of-RIB"); },
    });
    INFO(failure);
    LAB_REQUIRE(lab, failure.empty());
  }
  SECTION("GoBGP is killed and comes back, then is killed for good") {
    // GoBGP asks for 120 s (its restart-time); BGPPeer maxRestartTime caps it at 10 s.
    GobgpLab lab(64512, GobgpOptions{65002, "s3cret", "s3cret", true, "10s"});
    bringUp(lab);
    const auto eorBefore = countOf(lab.tartan_->log(), "End-of-RIB IPv");
    const auto failure = runGracefulRestart({
        .forwarding = [&] { return lab.tartanForwardsToGobgp(); },
        .state = [&] { return lab.tartanKernel(); },
        .stop = [&] { lab.gobgp_->stop(SIGKILL); },
        .helperSawItDown = [&] { return !tartanEstablished(lab.dir_ / "bgpd.sock", 2); },
        .start = [&] { lab.restartGobgp(); },
        .established = [&] { return lab.bothEstablished(); },
        .endOfRibDone = [&] { return countOf(lab.tartan_->log(), "End-of-RIB IPv") >= eorBefore + 2; },
    });
    INFO(failure);
    LAB_REQUIRE(lab, failure.empty());
    // GoBGP came back with -r, so with the F bit: the stale routes waited for its End-of-RIB.
    LAB_REQUIRE(lab, contains(lab.tartan_->log(), "back, its stale routes wait up to"));

    // RFC 4724 §4.2: a peer that never comes back keeps its routes in our kernel only until the
    // restart time runs out — GoBGP asked for 120 s, BGPPeer maxRestartTime caps it at 10 s.
    lab.gobgp_->stop(SIGKILL);
    LAB_REQUIRE(lab, eventually([&] { return !tartanEstablished(lab.dir_ / "bgpd.sock", 2); }, 15s));
    LAB_REQUIRE(lab, holdsThroughout([&] { return lab.tartanForwardsToGobgp(); }, 3s));
    LAB_REQUIRE(lab, eventually(
                         [&] {
                           return routeIn(lab.tartanNs_, "10.66.2.0/24").empty() &&
                                  routeIn(lab.tartanNs_, "fd66:2::/64", true).empty();
                         },
                         20s));
    LAB_REQUIRE(lab, contains(lab.tartan_->log(), "restart time over, removing its stale routes"));
    LAB_REQUIRE(lab, contains(routeIn(lab.tartanNs_, "10.65.1.0/26"), "blackhole"));
  }
}
