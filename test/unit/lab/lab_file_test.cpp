// Lab files: nodes, pools, the ToR and the outside, pods on nodes, and the error each field can
// raise (file:line:column and the field's path).
#include "lab_file.hpp"

#include <catch2/catch.hpp>

using namespace tartan::lab;
using Catch::Matchers::Contains;

namespace {

// A valid cluster; tests append namespaces and pods or replace parts.
const std::string kCluster = R"(name: c
nodes:
  - name: node-1
  - name: node-2
    asNumber: 64513
    labels: {rack: r2}
pools:
  - {name: v4, cidr: 10.65.0.0/16, blockSize: 26, natOutgoing: true}
  - {name: v6, cidr: "fd00:65::/48", natOutgoing: true}
tor:
  asNumber: 65000
  addresses: [10.64.0.1/24, "fd00:64::1/64"]
outside:
  addresses: [198.51.100.10/24, "2001:db8:ff::10/64"]
namespaces:
  - name: shop
    labels: {team: shop}
)";

std::vector<std::string> errorsOf(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& e : parseLabFile(text, "lab.yaml", "x").errors) out.push_back(e.toString());
  return out;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("a cluster: nodes take fabric hosts 11, 12, ...; pools get Calico's default block sizes") {
  const auto r = parseLabFile(kCluster + R"(pods:
  - {name: web, namespace: shop, node: node-2, labels: {app: web}, ports: [{name: http, port: 8080}]}
)",
                              "lab.yaml", "x");
  INFO((r.errors.empty() ? "" : r.errors.front().toString()));
  REQUIRE(r.ok());
  const LabFile& lab = r.lab;
  CHECK(lab.name == "c");
  CHECK(lab.asNumber == 64512);
  REQUIRE(lab.nodes.size() == 2);
  CHECK(lab.nodes[0] == LabNode{"node-1", 0, {}, "10.64.0.11/24", "fd00:64::b/64"});
  CHECK(lab.nodes[1] == LabNode{"node-2", 64513, {{"rack", "r2"}}, "10.64.0.12/24", "fd00:64::c/64"});
  REQUIRE(lab.pools.size() == 2);
  CHECK(lab.pools[0] == LabPool{"v4", "10.65.0.0/16", 4, 26, true});
  CHECK(lab.pools[1] == LabPool{"v6", "fd00:65::/48", 6, 122, true});
  CHECK(lab.tor.asNumber == 65000);
  CHECK(lab.tor.ipv4 == LabAddress{"10.64.0.1", 24, "10.64.0.0/24"});
  CHECK(lab.tor.ipv6 == LabAddress{"fd00:64::1", 64, "fd00:64::/64"});
  CHECK(lab.outside.ipv4 == LabAddress{"198.51.100.10", 24, "198.51.100.0/24"});
  CHECK(lab.outside.torIpv4 == LabAddress{"198.51.100.1", 24, "198.51.100.0/24"});
  CHECK(lab.outside.torIpv6 == LabAddress{"2001:db8:ff::1", 64, "2001:db8:ff::/64"});
  REQUIRE(lab.pods.size() == 1);
  CHECK(lab.pods[0] == LabPod{"web", "shop", "node-2", {{"app", "web"}}, "", {LabPort{8080, "TCP", "http"}}});
}

TEST_CASE("with one node, a pod's node may be left out; with several it is required") {
  const std::string one =
      replaced(kCluster, "  - name: node-2\n    asNumber: 64513\n    labels: {rack: r2}\n", "");
  const auto r = parseLabFile(one + "pods: [{name: a, namespace: shop}]\n", "lab.yaml", "x");
  REQUIRE(r.ok());
  CHECK(r.lab.pods[0].node == "node-1");
  const auto e = errorsOf(
      kCluster + "pods:\n  - {name: a, namespace: shop}\n  - {name: b, namespace: shop, node: node-9}\n");
  REQUIRE(e.size() == 2);
  CHECK(e[0] == "lab.yaml:19:5: pods[0].node: is required when the lab has several nodes");
  CHECK(e[1] == "lab.yaml:20:38: pods[1].node: node 'node-9' is not declared under nodes");
}

// Each row: what the file says (one replacement in kCluster), and the error it must give.
TEST_CASE("every field is checked and its error names file:line:column and the field") {
  struct Case {
    const char* from;
    const char* to;
    const char* error;
  };
  const Case cases[] = {
      {"name: c\n", "name: C_1\n", "lab.yaml:1:7: name: 'C_1' must be 1-20 characters"},
      {"name: c\n", "name: c\nextra: 1\n", "lab.yaml:2:1: extra: unknown field"},
      {"  - name: node-1\n", "  - name: tor\n", "nodes[0].name: 'tor' is the lab's own namespace name"},
      {"  - name: node-1\n", "  - name: node-2\n",
       "lab.yaml:4:11: nodes[1].name: 'node-2' is declared twice"},
      {"    asNumber: 64513\n", "    asNumber: 0\n",
       "lab.yaml:5:15: nodes[1].asNumber: '0' is not a number from 1"},
      {"    labels: {rack: r2}\n", "    labels: {rack: r2}\n    ip: 1.2.3.4\n", "nodes[1].ip: unknown field"},
      {"cidr: 10.65.0.0/16,", "cidr: 10.65.0.1/16,", "pools[0].cidr: '10.65.0.1/16' has host bits set"},
      {"cidr: 10.65.0.0/16,", "cidr: 10.65.0.0/33,", "pools[0].cidr: '10.65.0.0/33' is not a CIDR"},
      {"blockSize: 26", "blockSize: 19", "pools[0].blockSize: '19' is not a number from 20 to 32"},
      {"cidr: 10.65.0.0/16, blockSize: 26", "cidr: 10.65.0.0/28, blockSize: 26",
       "pools[0].blockSize: a /26 block is larger than the pool 10.65.0.0/28"},
      {"natOutgoing: true}\n  - {name: v6", "natOutgoing: yes}\n  - {name: v6",
       "pools[0].natOutgoing: 'yes' must be true or false"},
      {"{name: v6, cidr: \"fd00:65::/48\"", "{name: v6, cidr: \"fd00:64::/56\"",
       "lab.yaml:12:29: tor.addresses: 'fd00:64::/64' overlaps pool 'v6'"},
      {"{name: v6, cidr: \"fd00:65::/48\"", "{name: v4, cidr: \"fd00:65::/48\"",
       "pools[1].name: 'v4' is declared twice"},
      {"{name: v6, cidr: \"fd00:65::/48\"", "{name: v6, cidr: \"10.65.128.0/17\"",
       "pools[1].cidr: '10.65.128.0/17' overlaps pool 'v4'"},
      {"[10.64.0.1/24, ", "[10.65.0.1/24, ",
       "lab.yaml:12:15: tor.addresses: '10.65.0.0/24' overlaps pool 'v4'"},
      {"[10.64.0.1/24, ", "[10.64.0.11/24, ", "tor.addresses: the ToR's address is node 'node-1''s"},
      {"[10.64.0.1/24, ", "[10.64.0.1/29, ", "the fabric 10.64.0.0/29 has no host 11 for node 'node-1'"},
      {"[10.64.0.1/24, ", "[10.64.0.0/24, ",
       "tor.addresses[0]: '10.64.0.0/24' is not a host address of its subnet"},
      {"[10.64.0.1/24, ", "[10.64.0.1, ",
       "tor.addresses[0]: '10.64.0.1' is not an address with its prefix length"},
      {"[10.64.0.1/24, \"fd00:64::1/64\"]", "[\"fd00:64::1/64\"]", "tor.addresses: needs an IPv4 address"},
      {"[10.64.0.1/24, \"fd00:64::1/64\"]", "[10.64.0.1/24]",
       "tor.addresses: an IPv6 pool needs an IPv6 fabric address"},
      {"[10.64.0.1/24, \"fd00:64::1/64\"]", "[10.64.0.1/24, 10.64.0.2/24]",
       "tor.addresses[1]: '10.64.0.2/24': only one address per family"},
      {"  asNumber: 65000\n", "", "lab.yaml:11:3: tor.asNumber: is required"},
      {"[198.51.100.10/24, ", "[198.51.100.1/24, ",
       "outside.addresses: '198.51.100.1' is the first host of its subnet"},
      {"[198.51.100.10/24, ", "[10.65.7.10/24, ", "outside.addresses: '10.65.7.0/24' overlaps pool 'v4'"},
      {"outside:\n  addresses: [198.51.100.10/24, \"2001:db8:ff::10/64\"]\n", "",
       "lab.yaml:1:1: outside: is required (addresses)"},
      {"  - name: shop\n", "  - name: frontend\n  - name: shop\n  - name: shop\n",
       "namespaces[2].name: 'shop' is declared twice"},
  };
  for (const auto& c : cases) {
    const auto e = errorsOf(replaced(kCluster, c.from, c.to));
    INFO(c.to);
    REQUIRE(!e.empty());
    CHECK_THAT(e.front(), Contains(c.error));
  }
}

TEST_CASE("pods: names, namespaces, service accounts, addresses and ports are checked") {
  const auto e = errorsOf(kCluster + R"(pods:
  - name: a
    namespace: shop
    node: node-1
    serviceAccount: Not_A_Label
    ip: 192.0.2.2
    ip6: 10.65.0.3
    ports:
      - {name: http, port: 80}
      - {name: http, port: 81}
      - {name: 8080, port: 8080}
      - {port: 80}
      - {port: 70000, protocol: SCTP}
  - {name: a, namespace: shop, node: node-1}
  - {name: b, namespace: nowhere, node: node-1}
)");
  REQUIRE(e.size() == 10);
  CHECK_THAT(e[0], Contains("pods[0].serviceAccount: 'Not_A_Label' is not a DNS label"));
  CHECK_THAT(e[1], Contains("pods[0].ip: '192.0.2.2' is in none of the lab's pools"));
  CHECK_THAT(e[2], Contains("pods[0].ip6: '10.65.0.3' is not an IPv6 address"));
  CHECK_THAT(e[3], Contains("pods[0].ports[1].name: port name 'http' is used twice in the pod"));
  CHECK_THAT(e[4], Contains("pods[0].ports[2].name: '8080' is not a port name"));
  CHECK_THAT(e[5], Contains("pods[0].ports[3]: TCP port 80 is listed twice"));
  CHECK_THAT(e[6], Contains("pods[0].ports[4].port: '70000' is not a number from 1 to 65535"));
  CHECK_THAT(e[7], Contains("pods[0].ports[4].protocol: 'SCTP' must be TCP or UDP"));
  CHECK_THAT(e[8], Contains("pods[1].name: pod 'shop/a' is declared twice"));
  CHECK_THAT(e[9], Contains("pods[2].namespace: namespace 'nowhere' is not declared under namespaces"));
  // An address asked for twice.
  const auto twice = errorsOf(kCluster + R"(pods:
  - {name: a, namespace: shop, node: node-1, ip: 10.65.0.9}
  - {name: b, namespace: shop, node: node-1, ip: 10.65.0.9}
)");
  REQUIRE(twice.size() == 1);
  CHECK_THAT(twice[0], Contains("pods[1].ip: '10.65.0.9' is asked for by another pod"));
  CHECK(errorsOf(kCluster + "pods: [{name: b, namespace: nowhere, node: node-1}]\n")[0] ==
        "lab.yaml:18:29: pods[0].namespace: namespace 'nowhere' is not declared under namespaces");
}

TEST_CASE("a host port is forwarded by portmap on the pod's node: unique per node and protocol") {
  const auto r = parseLabFile(kCluster + R"(pods:
  - {name: a, namespace: shop, node: node-1, ports: [{port: 80, hostPort: 30080}, {port: 53, protocol: UDP, hostPort: 30080}]}
  - {name: b, namespace: shop, node: node-2, ports: [{port: 80, hostPort: 30080}]}
)",
                              "lab.yaml", "x");
  REQUIRE(r.ok());
  CHECK(r.lab.pods[0].ports[0] == LabPort{80, "TCP", "", 30080});
  CHECK(r.lab.pods[0].ports[1] == LabPort{53, "UDP", "", 30080});
  const auto e = errorsOf(kCluster + R"(pods:
  - {name: a, namespace: shop, node: node-1, ports: [{port: 80, hostPort: 30080}]}
  - {name: b, namespace: shop, node: node-1, ports: [{port: 81, hostPort: 30080}, {port: 82, hostPort: 0}]}
)");
  REQUIRE(e.size() == 2);
  CHECK_THAT(e[0], Contains("pods[1].ports[1].hostPort: '0' is not a number from 1 to 65535"));
  CHECK_THAT(
      e[1],
      Contains("lab.yaml:20:75: pods[1].ports[0].hostPort: TCP host port 30080 is taken on node 'node-1'"));
}

TEST_CASE("nodes, pools, tor and outside are required; the YAML itself must parse") {
  const auto e = errorsOf("name: x\n");
  REQUIRE(e.size() == 4);
  CHECK(e[0] == "lab.yaml:1:1: nodes: at least one node is required");
  CHECK(e[1] == "lab.yaml:1:1: pools: at least one IP pool is required");
  CHECK(e[2] == "lab.yaml:1:1: tor: is required (asNumber and addresses)");
  CHECK(e[3] == "lab.yaml:1:1: outside: is required (addresses)");
  CHECK_THAT(errorsOf("nodes: [\n")[0], Contains("lab.yaml:2:1"));
  CHECK(errorsOf("- a\n")[0] == "lab.yaml:1:1: must be a mapping");
}

TEST_CASE("add-pod's --port is [NAME:]PORT[/TCP|UDP]") {
  CHECK(parsePortSpec("8080").value() == LabPort{8080, "TCP", ""});
  CHECK(parsePortSpec("dns:53/udp").value() == LabPort{53, "UDP", "dns"});
  CHECK(parsePortSpec("https:443/TCP").value() == LabPort{443, "TCP", "https"});
  CHECK(parsePortSpec("http:8080@30080").value() == LabPort{8080, "TCP", "http", 30080});
  CHECK(parsePortSpec("53/udp@30053").value() == LabPort{53, "UDP", "", 30053});
  CHECK_THAT(parsePortSpec("80@0").error().toString(), Contains("'0' is not a host port"));
  CHECK_THAT(parsePortSpec("0").error().toString(), Contains("'0' is not a port"));
  CHECK_THAT(parsePortSpec("80/sctp").error().toString(), Contains("'SCTP' must be TCP or UDP"));
  CHECK_THAT(parsePortSpec("Bad_Name:80").error().toString(), Contains("'Bad_Name' is not a port name"));
}

TEST_CASE("the lab's name defaults to the file's stem") {
  const auto r = parseLabFile(replaced(kCluster, "name: c\n", ""), "mylab.yaml", "mylab");
  REQUIRE(r.ok());
  CHECK(r.lab.name == "mylab");
}

TEST_CASE("the lab's namespace names") {
  CHECK(nodeNamespace("c", "node-1") == "tl-c-node-1");
  CHECK(podNamespace("c", "shop", "web") == "tl-c-shop.web");
  CHECK(torNamespace("c") == "tl-c-tor");
  CHECK(outsideNamespace("c") == "tl-c-outside");
}
