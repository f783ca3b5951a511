// tartan-bgpd against a real BIRD 2, each in its own namespace joined by a veth.
//
// Node "node1" (tartan) is 10.99.0.1 / fd99::1, BIRD is 10.99.0.2 / fd99::2. Tartan owns the
// blocks 10.65.1.0/26 and fd65:0:0:1::/122; BIRD announces 10.66.1.0/24 and fd66:1::/64 from a
// static protocol, which tartan imports as every route a peer sends (no BGPFilter rejects them).
#include <cstdlib>
#include "harness.hpp"

#include <tartan/bgp/status_client.hpp>

#include <catch2/catch.hpp>

#include <csignal>

#include <fstream>

using namespace tartan::test;
using namespace tartan::test::bgp;
using namespace std::chrono_literals;

namespace {

struct BirdOptions {
  std::uint32_t birdAs = 65001;
  std::string password;                  // on BIRD's side
  bool gtsm = false;                     // BIRD's "ttl security on" (RFC 5082)
  std::optional<int> tartanTtlSecurity;  // BGPPeer.spec.ttlSecurity on tartan's side
};

std::string birdConfig(const BirdOptions& o, std::uint32_t tartanAs) {
  const bool ibgp = o.birdAs == tartanAs;
  std::string pw = o.password.empty() ? "" : "  password \"" + o.password + "\";\n";
  std::string common = "  local as " + std::to_string(o.birdAs) + ";\n" + pw +
                       "  hold time 9; connect retry time 2; error wait time 1, 2;\n"
                       "  graceful restart on;\n" +
                       (o.gtsm ? "  ttl security on;\n" : "") + (ibgp ? "  direct;\n" : "");
  return "router id 10.99.0.2;\n"
         "protocol device { scan time 1; }\n"
         "protocol kernel k4 { ipv4 { import none; export where source = RTS_BGP; }; }\n"
         "protocol kernel k6 { ipv6 { import none; export where source = RTS_BGP; }; }\n"
         "protocol static s4 { ipv4; route 10.66.1.0/24 blackhole; }\n"
         "protocol static s6 { ipv6; route fd66:1::/64 blackhole; }\n"
         "protocol bgp t4 {\n" +
         common + "  neighbor 10.99.0.1 as " + std::to_string(tartanAs) +
         ";\n  ipv4 { import all; export where source = RTS_STATIC; };\n}\n"
         "protocol bgp t6 {\n" +
         common + "  neighbor fd99::1 as " + std::to_string(tartanAs) +
         ";\n  ipv6 { import all; export where source = RTS_STATIC; };\n}\n";
}

// Two namespaces, a veth, addresses; the datastore for node1; BIRD and tartan-bgpd started.
class BirdLab {
 public:
  BirdLab(std::uint32_t tartanAs, BirdOptions bird, const std::string& tartanPassword = "")
      : tartanNs_("bgpd"), birdNs_("bird"), birdOptions_(bird) {
    linkTartanToPeer(tartanNs_, birdNs_, "b");
    std::vector<tartan::model::Resource> resources{
        bgpConfiguration(tartanAs, false),
        node("node1", "10.99.0.1/24", "fd99::1/64"),
        ipPool("pool4", "10.65.0.0/16"),
        ipPool("pool6", "fd65::/48"),
        ipPool("ext4", "10.66.0.0/16"),
        ipPool("ext6", "fd66::/16"),
        ipamBlock("10.65.1.0/26", "node1"),
        ipamBlock("fd65:0:0:1::/122", "node1"),
        bgpPeer("bird4", "10.99.0.2", bird.birdAs, tartanPassword.empty() ? "" : "birdsecret",
                bird.tartanTtlSecurity),
        bgpPeer("bird6", "fd99::2", bird.birdAs, tartanPassword.empty() ? "" : "birdsecret",
                bird.tartanTtlSecurity),
    };
    std::filesystem::create_directories(dir_.path() / "store");
    writeResources(dir_ / "store", resources);
    if (!tartanPassword.empty()) writeSecret(dir_ / "secrets", "birdsecret", tartanPassword);
    std::ofstream(dir_ / "bird.conf") << birdConfig(bird, tartanAs);
    startBird();
    startTartan();
  }

  // recovering: `bird -R`, BIRD's graceful restart recovery after a restart.
  void startBird(bool recovering = false) {
    std::vector<std::string> argv{"bird", "-c", dir_ / "bird.conf", "-s", dir_ / "bird.ctl", "-f"};
    if (recovering) argv.push_back("-R");
    bird_ = std::make_unique<Process>(birdNs_, argv, dir_ / "bird.log");
  }
  void startTartan() { tartan_ = std::make_unique<Process>(tartanNs_, bgpdCommand(dir_), dir_ / "bgpd.log"); }

  std::string birdc(const std::string& command) {
    return birdNs_.exec("birdc -s " + (dir_ / "bird.ctl") + " " + command).output;
  }
  bool birdEstablished(const std::string& protocol) {
    return birdc("show protocols " + protocol).find("Established") != std::string::npos;
  }
  bool tartanEstablished(std::size_t peers) {
    return tartan::test::bgp::tartanEstablished(dir_ / "bgpd.sock", peers);
  }
  std::string diagnostics() {
    return "--- bgpd log ---\n" + (tartan_ ? tartan_->log() : "") + "\n--- bird log ---\n" +
           (bird_ ? bird_->log() : "") + "\n--- bird protocols ---\n" + birdc("show protocols all");
  }

  NetNamespace tartanNs_;
  NetNamespace birdNs_;
  BirdOptions birdOptions_;
  TempDir dir_;
  std::unique_ptr<Process> bird_;
  std::unique_ptr<Process> tartan_;
};

// On failure, both daemons' logs say why.

}  // namespace

TEST_CASE("BIRD 2: eBGP and iBGP sessions carry IPv4 and IPv6 routes both ways into both kernels",
          "[interop][bird]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  for (const std::uint32_t birdAs : {65001u, 64512u}) {
    DYNAMIC_SECTION((birdAs == 64512u ? "iBGP" : "eBGP")) {
      BirdLab lab(64512, BirdOptions{birdAs, ""});
      LAB_REQUIRE(lab,
                  eventually([&] { return lab.birdEstablished("t4") && lab.birdEstablished("t6"); }, 30s));
      LAB_REQUIRE(lab, eventually([&] { return lab.tartanEstablished(2); }, 10s));

      // BIRD's routes in tartan's kernel, under tartan's protocol number (117).
      LAB_REQUIRE(
          lab,
          eventually([&] { return contains(routeIn(lab.tartanNs_, "10.66.1.0/24"), "via 10.99.0.2"); }, 10s));
      LAB_REQUIRE(lab, contains(routeIn(lab.tartanNs_, "10.66.1.0/24"), "proto 117"));
      LAB_REQUIRE(
          lab,
          eventually([&] { return contains(routeIn(lab.tartanNs_, "fd66:1::/64", true), "via fd99::2"); },
                     10s));
      // Tartan's blocks: a blackhole at home, a route at BIRD (kernel protocol export).
      LAB_REQUIRE(lab, contains(routeIn(lab.tartanNs_, "10.65.1.0/26"), "blackhole"));
      LAB_REQUIRE(
          lab,
          eventually([&] { return contains(routeIn(lab.birdNs_, "10.65.1.0/26"), "via 10.99.0.1"); }, 10s));
      LAB_REQUIRE(
          lab,
          eventually([&] { return contains(routeIn(lab.birdNs_, "fd65:0:0:1::/122", true), "via fd99::1"); },
                     10s));

      // The status API lists the learned routes.
      auto routes = tartan::bgp::status::listRoutes(lab.dir_ / "bgpd.sock");
      REQUIRE(routes.has_value());
      bool seen = false;
      for (const auto& r : *routes)
        seen = seen || (r.prefix == "10.66.1.0/24" && r.from == "peer/bird4/10.99.0.2");
      LAB_REQUIRE(lab, seen);

      // And so does tartanctl, through the same socket: peers as `node status`, routes by prefix.
      const std::string ctl = std::string(std::getenv("TARTAN_BINARY_DIR")) + "/src/cli/tartanctl";
      auto nodeStatus = tartan::test::shell(ctl + " node status --socket " + (lab.dir_ / "bgpd.sock"));
      INFO(nodeStatus.output);
      CHECK(nodeStatus.exitCode == 0);
      CHECK(contains(nodeStatus.output, "| 10.99.0.2 "));
      CHECK(contains(nodeStatus.output, "Established"));
      auto bgpRoutes =
          tartan::test::shell(ctl + " bgp routes 10.66.0.0/16 --socket " + (lab.dir_ / "bgpd.sock"));
      INFO(bgpRoutes.output);
      CHECK(bgpRoutes.exitCode == 0);
      CHECK(contains(bgpRoutes.output, "| 10.66.1.0/24 "));
      CHECK_FALSE(contains(bgpRoutes.output, "10.65.1.0/26"));

      // Graceful restart of tartan-bgpd: both kernels keep forwarding, polled throughout.
      const auto failure = runGracefulRestart({
          .forwarding =
              [&] {
                return contains(routeIn(lab.tartanNs_, "10.66.1.0/24"), "via 10.99.0.2") &&
                       contains(routeIn(lab.tartanNs_, "10.65.1.0/26"), "blackhole") &&
                       contains(routeIn(lab.birdNs_, "10.65.1.0/26"), "via 10.99.0.1") &&
                       contains(routeIn(lab.birdNs_, "fd65:0:0:1::/122", true), "via fd99::1");
              },
          .stop = [&] { lab.tartan_->stop(); },
          .helperSawItDown = [&] { return !lab.birdEstablished("t4"); },
          .start = [&] { lab.startTartan(); },
          .established =
              [&] {
                return lab.birdEstablished("t4") && lab.birdEstablished("t6") && lab.tartanEstablished(2);
              },
          .endOfRibDone = [&] { return contains(lab.tartan_->log(), "every peer sent End-of-RIB"); },
      });
      INFO(failure);
      LAB_REQUIRE(lab, failure.empty());

      // The peer stops: its routes leave tartan's kernel.
      lab.bird_->stop();
      LAB_REQUIRE(lab, eventually([&] { return routeIn(lab.tartanNs_, "10.66.1.0/24").empty(); }, 20s));
      LAB_REQUIRE(lab, eventually([&] { return routeIn(lab.tartanNs_, "fd66:1::/64", true).empty(); }, 20s));
      LAB_REQUIRE(lab, contains(routeIn(lab.tartanNs_, "10.65.1.0/26"), "blackhole"));
    }
  }
}

TEST_CASE("BIRD 2: TCP-MD5 — the right password is accepted, a wrong one refused", "[interop][bird][md5]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  SECTION("matching passwords") {
    BirdLab lab(64512, BirdOptions{65001, "s3cret"}, "s3cret");
    LAB_REQUIRE(lab, eventually([&] { return lab.birdEstablished("t4") && lab.birdEstablished("t6"); }, 30s));
    LAB_REQUIRE(
        lab,
        eventually([&] { return contains(routeIn(lab.tartanNs_, "10.66.1.0/24"), "via 10.99.0.2"); }, 10s));
  }
  SECTION("mismatched passwords") {
    BirdLab lab(64512, BirdOptions{65001, "s3cret"}, "other");
    // Bounded observation window: several connect attempts on both sides, none may succeed.
    LAB_REQUIRE(lab,
                !(eventually([&] { return lab.birdEstablished("t4") || lab.tartanEstablished(1); }, 12s)));
    LAB_REQUIRE(lab, routeIn(lab.tartanNs_, "10.66.1.0/24").empty());
  }
}

TEST_CASE("BIRD 2: GTSM — sessions with TTL security on both sides come up, one-sided GTSM is refused",
          "[interop][bird][gtsm]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  SECTION("both sides") {
    BirdLab lab(64512, BirdOptions{65001, "", true, 1});
    LAB_REQUIRE(lab, eventually([&] { return lab.birdEstablished("t4") && lab.birdEstablished("t6"); }, 30s));
  }
  SECTION("tartan only: BIRD's eBGP packets arrive with TTL 1 and are dropped") {
    BirdLab lab(64512, BirdOptions{65001, "", false, 1});
    LAB_REQUIRE(lab,
                !(eventually([&] { return lab.birdEstablished("t4") || lab.tartanEstablished(1); }, 10s)));
  }
}

TEST_CASE(
    "BIRD 2 restarts gracefully (killed, then `bird -R`): tartan, as helper, keeps its routes in the kernel",
    "[interop][bird][graceful-restart]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  BirdLab lab(64512, BirdOptions{65001, ""});
  LAB_REQUIRE(lab, eventually([&] { return lab.birdEstablished("t4") && lab.birdEstablished("t6"); }, 30s));
  auto tartanForwardsToBird = [&] {
    return contains(routeIn(lab.tartanNs_, "10.66.1.0/24"), "via 10.99.0.2") &&
           contains(routeIn(lab.tartanNs_, "fd66:1::/64", true), "via fd99::2");
  };
  LAB_REQUIRE(lab, eventually(tartanForwardsToBird, 20s));
  const auto eorBefore = countOf(lab.tartan_->log(), "End-of-RIB IPv");
  const auto failure = runGracefulRestart({
      .forwarding = tartanForwardsToBird,
      .stop = [&] { lab.bird_->stop(SIGKILL); },
      .helperSawItDown = [&] { return !lab.tartanEstablished(2); },
      .start = [&] { lab.startBird(true); },
      .established =
          [&] { return lab.birdEstablished("t4") && lab.birdEstablished("t6") && lab.tartanEstablished(2); },
      .endOfRibDone = [&] { return countOf(lab.tartan_->log(), "End-of-RIB IPv") >= eorBefore + 2; },
  });
  INFO(failure);
  LAB_REQUIRE(lab, failure.empty());
  LAB_REQUIRE(lab, contains(lab.tartan_->log(), "keeping its routes for up to"));
  // BIRD came back with its forwarding state preserved (RFC 4724 F bit): the stale routes waited.
  LAB_REQUIRE(lab, contains(lab.tartan_->log(), "back, its stale routes wait up to"));
  // BIRD's routes came back and are still there after its End-of-RIB swept what it did not resend.
  LAB_REQUIRE(lab, tartanForwardsToBird());
}
