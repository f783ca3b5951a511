// Three tartan-bgpd nodes on one L2 segment (a bridge in a namespace of its own), the mesh off,
// node n1 a route reflector (routeReflectorClusterID) and n2, n3 its clients by selector: each
// client learns the other's block through n1 (RFC 4456) and installs it in its kernel.
#include "harness.hpp"

#include <tartan/bgp/status_client.hpp>

#include <catch2/catch.hpp>

using namespace tartan::test;
using namespace tartan::test::bgp;
using namespace std::chrono_literals;

TEST_CASE("three tartan-bgpd nodes with one route reflector", "[interop][rr]") {
  if (!haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  NetNamespace sw("switch");
  sw.execOrThrow("ip link set lo up && ip link add br0 type bridge && ip link set br0 up");
  std::vector<std::unique_ptr<NetNamespace>> nodes;
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "store");
  std::vector<tartan::model::Resource> resources{bgpConfiguration(64512, false),
                                                 ipPool("pool", "10.65.0.0/16")};
  for (int i = 1; i <= 3; ++i) {
    nodes.push_back(std::make_unique<NetNamespace>("n" + std::to_string(i)));
    const std::string s = uniqueSuffix();
    vethPair(*nodes.back(), "e" + s, sw, "p" + s);
    sw.execOrThrow("ip link set p" + s + " master br0 && ip link set p" + s + " up");
    nodes.back()->execOrThrow("ip link set lo up && ip link set e" + s + " up && ip addr add 10.97.0." +
                              std::to_string(i) + "/24 dev e" + s);
    auto n =
        node("n" + std::to_string(i), "10.97.0." + std::to_string(i) + "/24", "", i == 1 ? "1.0.0.1" : "");
    if (i == 1) std::get<tartan::model::Node>(n).metadata.labels["route-reflector"] = "true";
    resources.push_back(n);
    resources.push_back(ipamBlock("10.65." + std::to_string(i) + ".0/26", "n" + std::to_string(i)));
  }
  tartan::model::BGPPeer toRr;
  toRr.metadata.name = "to-rr";
  toRr.spec.nodeSelector = "!has(route-reflector)";
  toRr.spec.peerSelector = "has(route-reflector)";
  resources.push_back(toRr);
  writeResources(dir / "store", resources);

  std::vector<std::unique_ptr<Process>> daemons;
  for (int i = 1; i <= 3; ++i) {
    const std::string name = "n" + std::to_string(i);
    daemons.push_back(std::make_unique<Process>(
        *nodes[static_cast<std::size_t>(i - 1)],
        std::vector<std::string>{bgpdBinary(), "--datastore", "file:" + (dir / "store"), "--node", name,
                                 "--status-socket", dir / (name + ".sock"), "--hold-time", "9",
                                 "--connect-retry", "2", "--log-level", "debug"},
        dir / (name + ".log")));
  }
  auto diagnostics = [&] {
    std::string out;
    for (std::size_t i = 0; i < daemons.size(); ++i)
      out += "--- n" + std::to_string(i + 1) + " ---\n" + daemons[i]->log();
    return out;
  };
  auto established = [&](const std::string& name, std::size_t want) {
    auto s = tartan::bgp::status::getNodeStatus(dir / (name + ".sock"));
    if (!s) return false;
    std::size_t up = 0;
    for (const auto& p : s->peers) up += p.state == "Established";
    return up == want;
  };
  if (!eventually([&] { return established("n1", 2) && established("n2", 1) && established("n3", 1); }, 40s))
    FAIL("sessions not established\n" << diagnostics());
  // n2 and n3 have no session with each other: their routes to each other came through n1.
  if (!eventually(
          [&] { return routeIn(*nodes[1], "10.65.3.0/26").find("via 10.97.0.3") != std::string::npos; }, 20s))
    FAIL("n2 lacks n3's block\n" << diagnostics());
  if (!eventually(
          [&] { return routeIn(*nodes[2], "10.65.2.0/26").find("via 10.97.0.2") != std::string::npos; }, 20s))
    FAIL("n3 lacks n2's block\n" << diagnostics());
  if (!eventually(
          [&] { return routeIn(*nodes[0], "10.65.2.0/26").find("via 10.97.0.2") != std::string::npos; }, 20s))
    FAIL("n1 lacks n2's block\n" << diagnostics());
  CHECK(routeIn(*nodes[1], "10.65.1.0/26").find("via 10.97.0.1") != std::string::npos);
}
