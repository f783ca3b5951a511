// Calico's validation and defaults for IPPool, BGP, Node, IPAM and AgentConfiguration.
#include "test_support.hpp"

using namespace tartan::model;
using namespace tartan::model::test;
using tartan::Error;

namespace {

std::string resource(const std::string& kind, const std::string& spec, const std::string& name = "r") {
  return "apiVersion: projectcalico.org/v3\nkind: " + kind + "\nmetadata:\n  name: " + name + "\nspec:\n" +
         spec;
}

struct Case {
  const char* name;
  std::string text;
  const char* field;
  const char* what;
};

// Positions are checked in the policy tests; here the rule and the path are.
void checkCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SECTION(c.name) {
      Error e = onlyError(c.text);
      CHECK(e.field == c.field);
      CHECK_THAT(e.what, Catch::Contains(c.what));
      CHECK_THAT(e.where, Catch::StartsWith("in.yaml:"));
    }
  }
}

}  // namespace

TEST_CASE("IP pools are validated as Calico validates them", "[model][validate]") {
  checkCases({
      {"host bits set", resource("IPPool", "  cidr: 10.0.0.1/16\n"), "spec.cidr",
       "not strictly masked (did you mean \"10.0.0.0/16\"?)"},
      {"not a CIDR", resource("IPPool", "  cidr: 10.0.0.0/40\n"), "spec.cidr", "valid subnet"},
      {"no CIDR", resource("IPPool", "  natOutgoing: true\n"), "spec.cidr",
       "required field \"cidr\" is missing"},
      {"IPIP with VXLAN",
       resource("IPPool", "  cidr: 10.0.0.0/16\n  ipipMode: Always\n  vxlanMode: CrossSubnet\n"),
       "spec.ipipMode", "cannot both be enabled"},
      {"IPIP on IPv6", resource("IPPool", "  cidr: fd00::/48\n  ipipMode: Always\n"), "spec.ipipMode",
       "not supported on an IPv6 IP pool"},
      {"an unknown mode", resource("IPPool", "  cidr: 10.0.0.0/16\n  vxlanMode: Sometimes\n"),
       "spec.vxlanMode", "is not one of Always, CrossSubnet, Never"},
      {"an IPv4 block size too small", resource("IPPool", "  cidr: 10.0.0.0/8\n  blockSize: 19\n"),
       "spec.blockSize", "between 20 and 32"},
      {"an IPv6 block size too large", resource("IPPool", "  cidr: fd00::/48\n  blockSize: 129\n"),
       "spec.blockSize", "between 116 and 128"},
      {"a pool smaller than its blocks", resource("IPPool", "  cidr: 10.0.0.0/28\n"), "spec.cidr",
       "too small"},
      {"link local", resource("IPPool", "  cidr: 169.254.0.0/16\n"), "spec.cidr", "Link Local"},
      {"an unknown use", resource("IPPool", "  cidr: 10.0.0.0/16\n  allowedUses: [Workload, Pets]\n"),
       "spec.allowedUses[1]", "unknown use"},
      {"load balancer with a workload use",
       resource("IPPool", "  cidr: 10.0.0.0/16\n  allowedUses: [LoadBalancer, Workload]\n"),
       "spec.allowedUses[1]", "LoadBalancer cannot be used at the same time"},
      {"a bad node selector", resource("IPPool", "  cidr: 10.0.0.0/16\n  nodeSelector: \"a ==\"\n"),
       "spec.nodeSelector", "invalid selector"},
      {"the APIv1 ipip field", resource("IPPool", "  cidr: 10.0.0.0/16\n  ipip: {enabled: true}\n"),
       "spec.ipip", "may not be set"},
  });
}

TEST_CASE("IP pool defaults are Calico's", "[model][defaults]") {
  DecodeResult v4 = decode(resource("IPPool", "  cidr: 10.244.0.0/16\n"), "in.yaml");
  INFO(errorsText(v4));
  REQUIRE(v4.ok());
  const IPPoolSpec& s = std::get<IPPool>(v4.resources[0]).spec;
  CHECK(s.blockSize == 26);
  CHECK(s.vxlanMode == "Never");
  CHECK(s.ipipMode == "Never");
  CHECK(s.nodeSelector == "all()");
  CHECK(s.allowedUses == std::vector<std::string>{"Workload", "Tunnel"});
  CHECK(s.assignmentMode == "Automatic");

  DecodeResult v6 = decode(resource("IPPool", "  cidr: fd00:10:244:0::/48\n"), "in.yaml");
  REQUIRE(v6.ok());
  CHECK(std::get<IPPool>(v6.resources[0]).spec.blockSize == 122);
  CHECK(std::get<IPPool>(v6.resources[0]).spec.cidr == "fd00:10:244::/48");
}

TEST_CASE("BGP resources are validated as Calico validates them", "[model][validate]") {
  checkCases({
      {"a node with a node selector",
       resource("BGPPeer", "  node: n1\n  nodeSelector: all()\n  peerIP: 10.0.0.1\n  asNumber: 64512\n"),
       "spec.node", "node must be empty when nodeSelector is specified"},
      {"a peer IP with a peer selector", resource("BGPPeer", "  peerIP: 10.0.0.1\n  peerSelector: all()\n"),
       "spec.peerIP", "peerIP must be empty when peerSelector"},
      {"an AS number with a peer selector", resource("BGPPeer", "  asNumber: 65000\n  peerSelector: all()\n"),
       "spec.asNumber", "asNumber must be empty when peerSelector"},
      {"a bad peer address", resource("BGPPeer", "  peerIP: 10.0.0.1:0\n  asNumber: 1\n"), "spec.peerIP",
       "invalid peer address"},
      {"an IPv6 peer with a port but no brackets", resource("BGPPeer", "  peerIP: \"fd00::1:179x\"\n"),
       "spec.peerIP", "invalid peer address"},
      {"an AS number too large", resource("BGPPeer", "  asNumber: 4294967296\n"), "spec.asNumber",
       "out of range"},
      {"a bad asdot AS number", resource("BGPPeer", "  asNumber: \"1.70000\"\n"), "spec.asNumber",
       "invalid AS number"},
      {"reachableBy of another family",
       resource("BGPPeer", "  peerIP: 10.0.0.1\n  asNumber: 1\n  reachableBy: fd00::1\n"), "spec.reachableBy",
       "address families differ"},
      {"an unknown restart mode", resource("BGPPeer", "  restartMode: Fast\n"), "spec.restartMode",
       "is not one of"},
      {"a bad duration", resource("BGPPeer", "  maxRestartTime: 2 minutes\n"), "spec.maxRestartTime",
       "invalid duration"},
      {"a bad community",
       resource("BGPConfiguration",
                "  communities: [{name: c, value: \"70000:1\"}]\n  prefixAdvertisements: "
                "[{cidr: 10.0.0.0/8, communities: [c]}]\n",
                "default"),
       "spec.communities[0].value", "invalid community value"},
      {"communities never used",
       resource("BGPConfiguration", "  communities: [{name: c, value: \"1:1\"}]\n", "default"),
       "spec.communities", "not used"},
      {"an undefined community",
       resource("BGPConfiguration", "  prefixAdvertisements: [{cidr: 10.0.0.0/8, communities: [nope]}]\n",
                "default"),
       "spec.prefixAdvertisements[0].communities[0]", "invalid or not defined"},
      {"a mesh password with the mesh off",
       resource("BGPConfiguration",
                "  nodeToNodeMeshEnabled: false\n  nodeMeshPassword: {secretKeyRef: {name: s, key: k}}\n",
                "default"),
       "spec.nodeMeshPassword", "cannot be set if nodeToNodeMeshEnabled is false"},
      {"a service CIDR with host bits",
       resource("BGPConfiguration", "  serviceClusterIPs: [{cidr: 10.96.0.1/12}]\n", "default"),
       "spec.serviceClusterIPs[0].cidr", "host bits set"},
      {"a filter rule without an action",
       resource("BGPFilter", "  exportV4: [{cidr: 10.0.0.0/8, matchOperator: In}]\n"),
       "spec.exportV4[0].action", "required field \"action\" is missing"},
      {"a filter CIDR without an operator",
       resource("BGPFilter", "  importV4: [{action: Accept, cidr: 10.0.0.0/8}]\n"),
       "spec.importV4[0].matchOperator", "cannot be empty when cidr is not"},
      {"an IPv6 CIDR in a V4 filter",
       resource("BGPFilter", "  importV4: [{action: Accept, cidr: fd00::/8, matchOperator: In}]\n"),
       "spec.importV4[0].cidr", "invalid IPv4 CIDR"},
      {"a prefix length out of range",
       resource(
           "BGPFilter",
           "  exportV6: [{action: Reject, cidr: fd00::/8, matchOperator: In, prefixLength: {max: 129}}]\n"),
       "spec.exportV6[0].prefixLength.max", "between 0 and 128"},
  });
}

TEST_CASE("Nodes, IPAM records and agent configuration are validated", "[model][validate]") {
  checkCases({
      {"an empty node BGP spec", resource("Node", "  bgp: {}\n"), "spec.bgp", "should not be empty"},
      {"a node IPv4 address that is IPv6", resource("Node", "  bgp: {ipv4Address: fd00::1/64}\n"),
       "spec.bgp.ipv4Address", "invalid IPv4 CIDR"},
      {"a route reflector cluster ID that is not an address",
       resource("Node", "  bgp: {ipv4Address: 10.0.0.1/24, routeReflectorClusterID: x}\n"),
       "spec.bgp.routeReflectorClusterID", "invalid IPv4 address"},
      {"an address of unknown type", resource("Node", "  addresses: [{address: 10.0.0.1, type: Public}]\n"),
       "spec.addresses[0].type", "is not one of"},
      {"a block with the wrong number of allocations",
       "apiVersion: crd.projectcalico.org/v1\nkind: IPAMBlock\nmetadata: {name: b}\nspec:\n  cidr: "
       "10.0.0.0/30\n  allocations: [null]\n",
       "spec.allocations", "a /30 block has 4 allocations"},
      {"an affinity in an unknown state",
       "apiVersion: crd.projectcalico.org/v1\nkind: BlockAffinity\nmetadata: {name: a}\nspec: {state: "
       "maybe, node: n1, cidr: 10.0.0.0/26}\n",
       "spec.state", "is not one of confirmed, pending, pendingDeletion"},
      {"a handle without ID",
       "apiVersion: crd.projectcalico.org/v1\nkind: IPAMHandle\nmetadata: {name: h}\nspec: {block: "
       "{10.0.0.0/26: 1}}\n",
       "spec.handleID", "handleID is required"},
      {"a bad log level", resource("FelixConfiguration", "  logSeverityScreen: Loud\n", "default"),
       "spec.logSeverityScreen", "is not one of"},
      {"a bad refresh interval",
       resource("FelixConfiguration", "  iptablesRefreshInterval: ten seconds\n", "default"),
       "spec.iptablesRefreshInterval", "invalid duration"},
      {"a failsafe port for ICMP",
       resource("FelixConfiguration", "  failsafeInboundHostPorts: [{protocol: icmp, port: 1}]\n", "default"),
       "spec.failsafeInboundHostPorts[0].protocol", "TCP, UDP or SCTP"},
      {"both route table settings",
       resource("FelixConfiguration",
                "  routeTableRange: {min: 1, max: 250}\n  routeTableRanges: [{min: 1, max: 2}]\n", "default"),
       "spec.routeTableRange", "cannot be set when routeTableRanges is also set"},
      {"a named node port range",
       resource("FelixConfiguration", "  kubeNodePortRanges: [\"30000:32767\", http]\n", "default"),
       "spec.kubeNodePortRanges[1]", "named ports"},
      {"an unknown agent field", resource("FelixConfiguration", "  interfacePrefixes: tart\n", "default"),
       "spec.interfacePrefixes", "unknown field"},
  });
}

TEST_CASE("every AgentConfiguration field round-trips", "[model][roundtrip]") {
  DecodeResult result = decode(resource("FelixConfiguration", R"(  useInternalDataplaneDriver: true
  ipv6Support: false
  routeRefreshInterval: 1m30s
  maxIpsetSize: 1048576
  iptablesBackend: NFT
  interfacePrefix: tart,cali
  defaultEndpointToHostAction: Return
  iptablesMarkMask: 0xff000000
  healthTimeoutOverrides: [{name: InternalDataplaneMainLoop, timeout: 30s}]
  failsafeOutboundHostPorts: [{protocol: UDP, port: 53, net: ""}]
  kubeNodePortRanges: ["30000:32767"]
  natPortRange: "32768:65535"
  externalNodesList: [192.0.2.0/24]
  bpfLogFilters: {all: "tcp port 80"}
  bpfPSNATPorts: "20000:29999"
  bpfExtToServiceConnmark: 4294967295
  routeTableRanges: [{min: 1, max: 250}]
  wireguardKeepAlive: 25s
  goGCThreshold: -1
)",
                                        "default"),
                               "in.yaml");
  INFO(errorsText(result));
  REQUIRE(result.ok());
  const auto& spec = std::get<AgentConfiguration>(result.resources[0]).spec;
  CHECK(spec.iptablesMarkMask == 0xff000000u);
  CHECK(spec.interfacePrefix == "tart,cali");
  CHECK(spec.natPortRange == Port::range(32768, 65535));
  requireRoundTrip(result.resources[0]);
}
