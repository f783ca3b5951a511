// What tartan-lab writes for a cluster: the datastore's resources, BIRD's configuration, the CNI
// network configuration list and each plugin's configuration, and how node status is read.
#include "cluster_config.hpp"

#include <catch2/catch.hpp>

using namespace tartan;
using namespace tartan::lab;
using json = nlohmann::json;
using Catch::Matchers::Contains;

namespace {

LabFile cluster() {
  const auto r = parseLabFile(R"(name: c
asNumber: 64512
nodes:
  - name: node-1
  - {name: node-2, asNumber: 64513, labels: {rack: r2}}
pools:
  - {name: v4, cidr: 10.65.0.0/16, natOutgoing: true}
  - {name: v6, cidr: "fd00:65::/48", blockSize: 120}
tor: {asNumber: 65000, addresses: [10.64.0.1/24, "fd00:64::1/64"]}
outside: {addresses: [198.51.100.10/24, "2001:db8:ff::10/64"]}
namespaces: [{name: shop, labels: {team: shop}}]
)",
                              "lab.yaml", "c");
  REQUIRE(r.ok());
  return r.lab;
}

template <class T>
std::vector<T> ofKind(const std::vector<model::Resource>& resources) {
  std::vector<T> out;
  for (const auto& r : resources)
    if (const T* v = std::get_if<T>(&r)) out.push_back(*v);
  return out;
}

}  // namespace

TEST_CASE("the cluster's resources: BGP configuration, Nodes with fabric addresses, pools, ToR peers") {
  const auto resources = clusterResources(cluster());
  for (const auto& r : resources) CHECK(model::validate(r).empty());

  const auto config = ofKind<model::BGPConfiguration>(resources);
  REQUIRE(config.size() == 1);
  CHECK(config[0].metadata.name == "default");
  CHECK(config[0].spec.asNumber == model::ASNumber{64512});
  CHECK(config[0].spec.nodeToNodeMeshEnabled == true);

  const auto nodes = ofKind<model::Node>(resources);
  REQUIRE(nodes.size() == 2);
  CHECK(nodes[0].spec.bgp->ipv4Address == "10.64.0.11/24");
  CHECK(nodes[0].spec.bgp->ipv6Address == "fd00:64::b/64");
  CHECK_FALSE(nodes[0].spec.bgp->asNumber.has_value());
  CHECK(nodes[1].spec.bgp->asNumber == model::ASNumber{64513});
  CHECK(nodes[1].metadata.labels.at("rack") == "r2");

  const auto pools = ofKind<model::IPPool>(resources);
  REQUIRE(pools.size() == 2);
  CHECK(pools[0].spec.cidr == "10.65.0.0/16");
  CHECK(pools[0].spec.natOutgoing);
  CHECK(pools[0].spec.blockSize == 26);
  CHECK_FALSE(pools[1].spec.natOutgoing);
  CHECK(pools[1].spec.blockSize == 120);

  const auto peers = ofKind<model::BGPPeer>(resources);
  REQUIRE(peers.size() == 2);
  CHECK(peers[0].metadata.name == "tor-v4");
  CHECK(peers[0].spec.peerIP == "10.64.0.1");
  CHECK(peers[0].spec.nodeSelector == "all()");
  CHECK(peers[0].spec.asNumber == model::ASNumber{65000});
  CHECK(peers[1].spec.peerIP == "fd00:64::1");

  const auto namespaces = ofKind<model::KubernetesNamespace>(resources);
  REQUIRE(namespaces.size() == 1);
  CHECK(namespaces[0].metadata.labels.at("team") == "shop");
}

TEST_CASE("a pod's resources: its ServiceAccount, and a Pod that is Running once it has addresses") {
  LabPod pod{"web", "shop", "node-2", {{"app", "web"}}, "api", {LabPort{8080, "TCP", "http"}}};
  auto pending = podResources(pod, {});
  REQUIRE(pending.size() == 2);
  CHECK(std::get<model::KubernetesServiceAccount>(pending[0]).metadata.name == "api");
  const auto& p = std::get<model::KubernetesPod>(pending[1]);
  CHECK(p.spec.nodeName == "node-2");
  CHECK(p.spec.serviceAccountName == "api");
  CHECK(p.status.phase == "Pending");
  REQUIRE(p.spec.containers.size() == 1);
  CHECK(p.spec.containers[0].ports[0].name == "http");

  pod.serviceAccount.clear();
  auto running = podResources(pod, {"10.65.1.2", "fd00:65::2"});
  REQUIRE(running.size() == 1);
  const auto& r = std::get<model::KubernetesPod>(running[0]);
  CHECK(r.status.phase == "Running");
  CHECK(r.status.podIP == "10.65.1.2");
  CHECK(r.status.podIPs == std::vector<model::PodIP>{{"10.65.1.2"}, {"fd00:65::2"}});
}

TEST_CASE(
    "BIRD on the ToR: a session per node and family, importing all, exporting the default and the outside") {
  const std::string conf = birdConfig(cluster());
  CHECK_THAT(conf, Contains("router id 10.64.0.1;"));
  CHECK_THAT(conf, Contains("log stderr all;"));
  CHECK_THAT(conf, Contains("local as 65000;"));
  CHECK_THAT(conf, Contains("protocol bgp n_node_1_v4 from node {\n  neighbor 10.64.0.11 as 64512;\n"
                            "  ipv4 { import all; export where proto = \"announce4\"; };"));
  CHECK_THAT(conf, Contains("protocol bgp n_node_2_v6 from node {\n  neighbor fd00:64::c as 64513;"));
  CHECK_THAT(conf, Contains("protocol static announce4 {\n  ipv4;\n  route 0.0.0.0/0 blackhole;\n"
                            "  route 198.51.100.0/24 blackhole;\n}"));
  CHECK_THAT(conf, Contains("route ::/0 blackhole;\n  route 2001:db8:ff::/64 blackhole;"));
  // Only what BGP learned goes to the ToR's kernel: the blackholes stay announcements.
  CHECK_THAT(conf, Contains("export where source = RTS_BGP;"));
  CHECK(birdProtocol("node-1", 6) == "n_node_1_v6");
}

TEST_CASE("the node's conflist chains tartan-cni and portmap; each plugin gets what a runtime gives it") {
  const json list = conflist(cluster(), "node-2", "file:/lab/datastore", "/lab/nodes/node-2/ipam.lock");
  CHECK(list["cniVersion"] == "1.0.0");
  REQUIRE(list["plugins"].size() == 2);
  CHECK(list["plugins"][0]["type"] == "tartan-cni");
  CHECK(list["plugins"][0]["nodename"] == "node-2");
  CHECK(list["plugins"][0]["datastore"] == "file:/lab/datastore");
  CHECK(list["plugins"][0]["ipam_lock_file"] == "/lab/nodes/node-2/ipam.lock");  // never the host's
  CHECK(list["plugins"][0]["ipam"]["type"] == "calico-ipam");
  CHECK(list["plugins"][0]["ipam"]["assign_ipv6"] == "true");
  CHECK(list["plugins"][1]["type"] == "portmap");

  // The first plugin: the list's version and name, no prevResult, no runtimeConfig.
  const json first = pluginConfig(list, 0, json(), json::array());
  CHECK(first["cniVersion"] == "1.0.0");
  CHECK(first["name"] == "k8s-pod-network");
  CHECK_FALSE(first.contains("prevResult"));
  CHECK_FALSE(first.contains("runtimeConfig"));
  // The second: the first's result as prevResult, and portMappings for its capability.
  const json result = json::parse(R"({"cniVersion":"1.0.0","ips":[{"address":"10.65.0.1/32"}]})");
  const json mappings = json::parse(R"([{"hostPort":9090,"containerPort":8080,"protocol":"tcp"}])");
  const json second = pluginConfig(list, 1, result, mappings);
  CHECK(second["prevResult"] == result);
  CHECK(second["runtimeConfig"]["portMappings"] == mappings);
  CHECK(second["snat"] == true);
}

TEST_CASE("a pod's host ports are the runtime's portMappings, lower-case protocols as CNI writes them") {
  CHECK(portMappings({LabPort{8080, "TCP", "http", 30080}, LabPort{53, "UDP", "dns", 30053},
                      LabPort{81, "TCP", "", 0}}) ==
        json::parse(R"([{"hostPort":30080,"containerPort":8080,"protocol":"tcp"},
                        {"hostPort":30053,"containerPort":53,"protocol":"udp"}])"));
  CHECK(portMappings({LabPort{81, "TCP", "", 0}}) == json::array());
  const auto pods =
      podResources(LabPod{"web", "shop", "node-1", {}, "", {LabPort{8080, "TCP", "http", 30080}}}, {});
  CHECK(std::get<model::KubernetesPod>(pods[0]).spec.containers[0].ports[0].hostPort == 30080);
}

TEST_CASE("tartanctl node status is read row by row") {
  const std::string out = R"(tartan-bgpd is running on node node-1 (AS 64512, router ID 10.64.0.11)

BGP peers
+--------------+-----------+-------------+---------------------+-------------+----------+----------+------------+
| PEER ADDRESS | PEER TYPE | STATE       | SINCE               | INFO        | RECEIVED | ACCEPTED | ADVERTISED |
+--------------+-----------+-------------+---------------------+-------------+----------+----------+------------+
| 10.64.0.12   | node-mesh | Established | 2026-01-01 00:00:00 | Established | 1        | 1        | 1          |
| 10.64.0.1    | global    | Active      |                     | Active      | 0        | 0        | 0          |
+--------------+-----------+-------------+---------------------+-------------+----------+----------+------------+

Loc-RIB routes: 3; routes in the kernel: 1
)";
  CHECK(parseNodeStatus(out) == std::vector<PeerState>{{"10.64.0.12", "node-mesh", "Established"},
                                                       {"10.64.0.1", "global", "Active"}});
  CHECK(parseNodeStatus("tartan-bgpd is not answering").empty());
}
