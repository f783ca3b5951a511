// tartan-bgpd against FRR (bgpd + zebra), each in its own namespace joined by a veth. The FRR
// daemons run directly (no systemd, no watchfrr) with their pid files, vty sockets and the zebra
// API socket in the test's temp dir; zebra installs FRR's routes into its namespace's kernel.
#include "harness.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <csignal>
#include <fstream>

using namespace tartan::test;
using namespace tartan::test::bgp;
using namespace std::chrono_literals;

namespace {

struct FrrOptions {
  std::uint32_t frrAs = 65003;
  std::string password;          // FRR's side of TCP-MD5 (RFC 2385)
  std::string tartanPassword;    // tartan's side (BGPPeer.spec.password)
  bool gracefulRestart = false;  // FRR restarts gracefully itself, keeping forwarding state
};

std::string frrConfig(const FrrOptions& o, std::uint32_t tartanAs) {
  std::string c = "frr defaults traditional\nhostname frr\nlog stdout informational\n!\nrouter bgp " +
                  std::to_string(o.frrAs) +
                  "\n bgp router-id 10.99.0.2\n no bgp ebgp-requires-policy\n no bgp network import-check\n";
  if (o.gracefulRestart)
    // RFC 4724 restarting speaker: the F bit set, and a short wait for our End-of-RIB after it.
    c += " bgp graceful-restart\n bgp graceful-restart preserve-fw-state\n"
         " bgp graceful-restart select-defer-time 10\n";
  for (const std::string n : {"10.99.0.1", "fd99::1"}) {
    c += " neighbor " + n + " remote-as " + std::to_string(tartanAs) + "\n neighbor " + n +
         " timers 3 9\n neighbor " + n + " timers connect 2\n";
    if (!o.password.empty()) c += " neighbor " + n + " password " + o.password + "\n";
  }
  c += " address-family ipv4 unicast\n  network 10.66.3.0/24\n  no neighbor fd99::1 activate\n "
       "exit-address-family\n"
       " address-family ipv6 unicast\n  network fd66:3::/64\n  neighbor fd99::1 activate\n "
       "exit-address-family\n!\n";
  return c;
}

class FrrLab {
 public:
  FrrLab(std::uint32_t tartanAs, FrrOptions options) : tartanNs_("bgpd"), peerNs_("frr") {
    const std::string s = linkTartanToPeer(tartanNs_, peerNs_, "f");
    // FRR sends IPv6 routes with a link-local next hop too: wait until both ends have one that
    // passed duplicate address detection.
    auto linkLocalReady = [](const NetNamespace& ns, const std::string& dev) {
      const auto out = ns.exec("ip -6 addr show dev " + dev + " scope link").output;
      return out.find("fe80") != std::string::npos && out.find("tentative") == std::string::npos;
    };
    eventually([&] { return linkLocalReady(tartanNs_, "t" + s) && linkLocalReady(peerNs_, "f" + s); }, 10s);
    const std::string secret = options.tartanPassword.empty() ? "" : "frrsecret";
    if (!secret.empty()) writeSecret(dir_ / "secrets", secret, options.tartanPassword);
    std::filesystem::create_directories(dir_.path() / "store");
    writeResources(
        dir_ / "store",
        {bgpConfiguration(tartanAs, false), node("node1", "10.99.0.1/24", "fd99::1/64"),
         ipPool("pool4", "10.65.0.0/16"), ipPool("pool6", "fd65::/48"), ipPool("ext4", "10.66.0.0/16"),
         ipPool("ext6", "fd66::/16"), ipamBlock("10.65.1.0/26", "node1"),
         ipamBlock("fd65:0:0:1::/122", "node1"), bgpPeer("frr4", "10.99.0.2", options.frrAs, secret),
         bgpPeer("frr6", "fd99::2", options.frrAs, secret)});
    // The FRR daemons drop to the frr user: their run directory must be theirs to write.
    std::filesystem::create_directories(dir_.path() / "frr");
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::all);
    std::filesystem::permissions(dir_.path() / "frr", std::filesystem::perms::all);
    std::ofstream(dir_ / "frr/bgpd.conf") << frrConfig(options, tartanAs);
    std::ofstream(dir_ / "frr/zebra.conf") << "hostname zebra\n";
    const std::string run = dir_ / "frr";
    zebra_ = std::make_unique<Process>(
        peerNs_,
        std::vector<std::string>{"/usr/lib/frr/zebra", "-f", run + "/zebra.conf", "-i", run + "/zebra.pid",
                                 "-z", run + "/zserv.api", "--vty_socket", run, "-A", "127.0.0.1", "-P", "0"},
        dir_ / "zebra.log");
    eventually([&] { return std::filesystem::exists(run + "/zserv.api"); }, 10s);
    startFrrBgpd();
    startTartan();
  }
  void startFrrBgpd() {
    const std::string run = dir_ / "frr";
    bgpd_ = std::make_unique<Process>(
        peerNs_,
        std::vector<std::string>{"/usr/lib/frr/bgpd", "-f", run + "/bgpd.conf", "-i", run + "/bgpd.pid", "-z",
                                 run + "/zserv.api", "--vty_socket", run, "-A", "127.0.0.1", "-P", "0"},
        dir_ / "frr-bgpd.log");
  }
  void startTartan() { tartan_ = std::make_unique<Process>(tartanNs_, bgpdCommand(dir_), dir_ / "bgpd.log"); }
  ~FrrLab() {
    // bgpd first, so that zebra removes its routes while it still can.
    if (bgpd_) bgpd_->stop();
    if (zebra_) zebra_->stop();
  }

  std::string vtysh(const std::string& command) {
    return peerNs_.exec("vtysh --vty_socket " + (dir_ / "frr") + " -c \"" + command + "\" 2>&1").output;
  }
  bool established() {
    const auto v4 = vtysh("show bgp ipv4 unicast summary");
    const auto v6 = vtysh("show bgp ipv6 unicast summary");
    // An established neighbour shows its prefix count where others show their state.
    auto up = [](const std::string& text, const std::string& neighbor) {
      const auto pos = text.find(neighbor);
      if (pos == std::string::npos) return false;
      const auto line = text.substr(pos, text.find('\n', pos) - pos);
      return line.find("Active") == std::string::npos && line.find("Connect") == std::string::npos &&
             line.find("Idle") == std::string::npos && line.find("Open") == std::string::npos &&
             line.find("never") == std::string::npos;
    };
    return up(v4, "10.99.0.1") && up(v6, "fd99::1");
  }
  bool tartanEstablished() {
    return tartanNs_.exec("ss -tn state established").output.find("10.99.0.2") != std::string::npos;
  }
  bool bothEstablished() {
    return established() && tartan::test::bgp::tartanEstablished(dir_ / "bgpd.sock", 2);
  }
  // FRR's record of the End-of-RIB it received from tartan on the current session (RFC 4724 §2).
  bool frrHasEndOfRib() {
    auto received = [&](const std::string& neighbor, const std::string& family) {
      auto json = vtysh("show bgp neighbors " + neighbor + " json");
      std::erase_if(json, [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
      return contains(json, "\"endOfRibRecv\":{\"" + family + "\":true");
    };
    return received("10.99.0.1", "ipv4Unicast") && received("fd99::1", "ipv6Unicast");
  }
  std::string diagnostics() {
    return "--- bgpd log ---\n" + tartan_->log() + "\n--- frr bgpd log ---\n" + bgpd_->log() +
           "\n--- zebra ---\n" + zebra_->log() + "\n--- summary ---\n" +
           vtysh("show bgp ipv4 unicast summary") + vtysh("show bgp ipv6 unicast summary");
  }

  NetNamespace tartanNs_;
  NetNamespace peerNs_;
  TempDir dir_;
  std::unique_ptr<Process> zebra_;
  std::unique_ptr<Process> bgpd_;
  std::unique_ptr<Process> tartan_;
};

}  // namespace

TEST_CASE("FRR: eBGP and iBGP sessions carry IPv4 and IPv6 routes both ways into both kernels",
          "[interop][frr]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  for (const std::uint32_t frrAs : {65003u, 64512u}) {
    DYNAMIC_SECTION((frrAs == 64512u ? "iBGP" : "eBGP")) {
      FrrLab lab(64512, FrrOptions{frrAs});
      LAB_REQUIRE(lab, eventually([&] { return lab.established(); }, 40s));
      LAB_REQUIRE(
          lab,
          eventually([&] { return contains(routeIn(lab.tartanNs_, "10.66.3.0/24"), "via 10.99.0.2"); }, 15s));
      LAB_REQUIRE(
          lab,
          eventually([&] { return contains(routeIn(lab.tartanNs_, "fd66:3::/64", true), "via fd99::2"); },
                     15s));
      // Tartan's blocks in FRR's kernel, installed by zebra.
      LAB_REQUIRE(
          lab,
          eventually([&] { return contains(routeIn(lab.peerNs_, "10.65.1.0/26"), "via 10.99.0.1"); }, 15s));
      LAB_REQUIRE(
          lab, eventually([&] { return contains(routeIn(lab.peerNs_, "fd65:0:0:1::/122", true), "fd99::1"); },
                          15s));
      // FRR withdraws its networks: they leave tartan's kernel.
      const std::string router = "router bgp " + std::to_string(frrAs);
      lab.vtysh("configure terminal\" -c \"" + router +
                "\" -c \"address-family ipv4 unicast\" -c \"no network 10.66.3.0/24");
      lab.vtysh("configure terminal\" -c \"" + router +
                "\" -c \"address-family ipv6 unicast\" -c \"no network fd66:3::/64");
      LAB_REQUIRE(lab, eventually([&] { return routeIn(lab.tartanNs_, "10.66.3.0/24").empty(); }, 30s));
      LAB_REQUIRE(lab, eventually([&] { return routeIn(lab.tartanNs_, "fd66:3::/64", true).empty(); }, 30s));
      // FRR can restart gracefully and closes without a NOTIFICATION when stopped: as helper
      // (RFC 4724 §4.2) tartan keeps what FRR announced, here re-announced first.
      lab.vtysh("configure terminal\" -c \"" + router +
                "\" -c \"address-family ipv4 unicast\" -c \"network 10.66.3.0/24");
      LAB_REQUIRE(
          lab,
          eventually([&] { return contains(routeIn(lab.tartanNs_, "10.66.3.0/24"), "via 10.99.0.2"); }, 15s));
      lab.bgpd_->stop();
      LAB_REQUIRE(lab, eventually([&] { return !lab.tartanEstablished(); }, 15s));
      LAB_REQUIRE(lab, contains(routeIn(lab.tartanNs_, "10.66.3.0/24"), "via 10.99.0.2"));
    }
  }
}

TEST_CASE("FRR: default routes and prefixes outside every pool reach tartan's kernel",
          "[interop][frr][import]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  FrrLab lab(64512, FrrOptions{});
  LAB_REQUIRE(lab, eventually([&] { return lab.established(); }, 40s));
  const std::string router = "router bgp 65003";
  lab.vtysh("configure terminal\" -c \"" + router +
            "\" -c \"address-family ipv4 unicast\" -c \"network 0.0.0.0/0\" -c \"network 198.51.100.0/24");
  lab.vtysh("configure terminal\" -c \"" + router +
            "\" -c \"address-family ipv6 unicast\" -c \"network ::/0\" -c \"network 2001:db8:100::/48");
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
  // Withdrawn by FRR: gone from the kernel.
  lab.vtysh("configure terminal\" -c \"" + router +
            "\" -c \"address-family ipv4 unicast\" -c \"no network 0.0.0.0/0");
  LAB_REQUIRE(lab, eventually([&] { return routeIn(lab.tartanNs_, "default").empty(); }, 30s));
  LAB_REQUIRE(lab, contains(routeIn(lab.tartanNs_, "198.51.100.0/24"), "via 10.99.0.2"));
}

TEST_CASE("FRR: TCP-MD5 — a mismatched password is refused", "[interop][frr][md5]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  FrrLab lab(64512, FrrOptions{65003, "s3cret", "other"});
  // Bounded observation window: several connect attempts on both sides, none may succeed.
  LAB_REQUIRE(lab, !eventually([&] { return lab.established() || lab.tartanEstablished(); }, 10s));
  LAB_REQUIRE(lab, routeIn(lab.tartanNs_, "10.66.3.0/24").empty());
}

// One lab, keyed with TCP-MD5 on both sides, for both directions of graceful restart: the
// matching password is what lets the sessions come up at all.
TEST_CASE(
    "FRR: with matching TCP-MD5 passwords, both sides restart gracefully and their kernels keep forwarding",
    "[interop][frr][md5][graceful-restart]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  FrrLab lab(64512, FrrOptions{65003, "s3cret", "s3cret", true});
  LAB_REQUIRE(lab, eventually([&] { return lab.bothEstablished(); }, 40s));
  auto frrForwardsToTartan = [&] {
    return contains(routeIn(lab.peerNs_, "10.65.1.0/26"), "via 10.99.0.1") &&
           contains(routeIn(lab.peerNs_, "fd65:0:0:1::/122", true), "via");
  };
  auto tartanForwardsToFrr = [&] {
    return contains(routeIn(lab.tartanNs_, "10.66.3.0/24"), "via 10.99.0.2") &&
           contains(routeIn(lab.tartanNs_, "fd66:3::/64", true), "via fd99::2");
  };
  LAB_REQUIRE(lab, eventually([&] { return frrForwardsToTartan() && tartanForwardsToFrr(); }, 20s));

  SECTION("tartan-bgpd restarts: FRR keeps tartan's routes in its kernel, tartan keeps FRR's in its own") {
    const auto failure = runGracefulRestart({
        .forwarding = [&] { return frrForwardsToTartan() && tartanForwardsToFrr(); },
        .stop = [&] { lab.tartan_->stop(); },
        .helperSawItDown = [&] { return !lab.established(); },
        .start = [&] { lab.startTartan(); },
        .established = [&] { return lab.bothEstablished(); },
        // Both ends' End-of-RIB: FRR's record, and tartan dropping its deferral on FRR's.
        .endOfRibDone =
            [&] {
              return lab.frrHasEndOfRib() && contains(lab.tartan_->log(), "every peer sent End-of-RIB");
            },
    });
    INFO(failure);
    LAB_REQUIRE(lab, failure.empty());
  }
  SECTION("FRR's bgpd is killed and comes back: tartan, as helper, keeps FRR's routes in its kernel") {
    const auto eorBefore = countOf(lab.tartan_->log(), "End-of-RIB IPv");
    const auto failure = runGracefulRestart({
        .forwarding = tartanForwardsToFrr,
        .stop = [&] { lab.bgpd_->stop(SIGKILL); },
        .helperSawItDown = [&] { return !lab.tartanEstablished(); },
        .start = [&] { lab.startFrrBgpd(); },
        .established = [&] { return lab.bothEstablished(); },
        .endOfRibDone = [&] { return countOf(lab.tartan_->log(), "End-of-RIB IPv") >= eorBefore + 2; },
    });
    INFO(failure);
    LAB_REQUIRE(lab, failure.empty());
    LAB_REQUIRE(lab, contains(lab.tartan_->log(), "keeping its routes for up to"));
    // FRR came back with the F bit (preserve-fw-state): the stale routes waited for its End-of-RIB.
    LAB_REQUIRE(lab, contains(lab.tartan_->log(), "back, its stale routes wait up to"));
  }
}
