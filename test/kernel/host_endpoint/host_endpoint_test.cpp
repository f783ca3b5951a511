// Calico's host endpoint semantics on the real kernel, with the real tartan-agent: a host
// endpoint selected by policy is default-deny except the failsafe ports (which no policy can
// close, and which AgentConfiguration may change); doNotTrack policy decides before conntrack
// and what it allows is never tracked; preDNAT policy decides on the destination before DNAT;
// applyOnForward policy, and only it, applies to traffic forwarded through the host. Default
// deny, failsafe ports, policy, expected IPs, doNotTrack, preDNAT and applyOnForward hold over
// IPv6 too, where no host endpoint policy (untracked and preDNAT included) may cut neighbour
// discovery. An all-interfaces endpoint (`interfaceName: "*"`) covers every interface but
// loopback and those a specific endpoint claims, and takes no doNotTrack policy, as in Calico.
// Every verdict is real TCP or UDP between namespaces (see host_node.hpp), polled with a deadline.
#include "host_node.hpp"

#include <catch2/catch.hpp>

#include <iostream>
#include <memory>

namespace tt = tartan::test;
using namespace tartan::test::hep;
using tartan::test::eventually;

namespace {

bool skipUnlessRoot() {
  if (tt::haveNetAdmin()) return false;
  WARN("kernel_host_endpoint needs root and network namespaces: SKIPPED, nothing was tested");
  SUCCEED("skipped: not root");
  return true;
}

// On a failed REQUIRE or CHECK-then-throw, the agent's own account of what happened.
struct DumpLogOnFailure {
  const HostNode& node;
  ~DumpLogOnFailure() {
    if (std::uncaught_exceptions() > 0) std::cerr << "---- agent log ----\n" << node.agentLog() << "----\n";
  }
};

bool tcp(const tt::NetNamespace& from, const std::string& ip, int port) {
  return tt::canConnect(from, ip, port);
}

// A GlobalNetworkPolicy on host endpoints; `extra` holds its flags and rules, indented by two.
std::string policy(const std::string& name, const std::string& selector, const std::string& extra) {
  return "apiVersion: tartan.dev/v1\nkind: GlobalNetworkPolicy\nmetadata:\n  name: " + name +
         "\nspec:\n  selector: \"" + selector + "\"\n" + extra;
}

// One pass of a case that runs in both families on the same node: a policy whose rules name ports
// and no addresses applies to IPv4 and IPv6 alike, so each of its verdicts is proven in both.
struct Family {
  const char* name;
  IpFamily family;
  const char* nodeEth0;
  const char* peer;
};
const Family kBothFamilies[] = {{"IPv4", IpFamily::kV4, kNodeEth0, kPeer},
                                {"IPv6", IpFamily::kV6, kNodeEth0V6, kPeerV6}};

// Makes the node and the peer forget what they knew of each other over IPv6, so the next probe
// has to resolve its neighbour again: proves neighbour discovery passes whatever policy is in force.
void forgetIpv6Neighbours(const HostNode& n) {
  n.node().execOrThrow("ip -6 neigh flush dev eth0");
  n.peer().execOrThrow("ip -6 neigh flush dev eth0");
}

const char* kAllowAll =
    "  types: [Ingress, Egress]\n  ingress:\n  - action: Allow\n  egress:\n  - action: Allow\n";

}  // namespace

TEST_CASE(
    "a host endpoint under policy is default-deny except the failsafe ports, which the "
    "configuration can change",
    "[kernel][hep][failsafe]") {
  if (skipUnlessRoot()) return;
  HostNode n;
  DumpLogOnFailure dump{n};
  const auto& node = n.node();
  const auto& peer = n.peer();
  tt::EchoServer ssh(node, "0.0.0.0", 22), api(node, "0.0.0.0", 6443), web(node, "0.0.0.0", 8080),
      alt(node, "0.0.0.0", 8081), etcd(peer, "0.0.0.0", 2379), peerWeb(peer, "0.0.0.0", 8080);
  UdpEchoServer dhcp(node, "0.0.0.0", 68), other(node, "0.0.0.0", 9999);
  n.startAgent();

  // No host endpoint: the host is not policed at all.
  REQUIRE(tcp(peer, kNodeEth0, 8080));
  REQUIRE(udpEchoes(peer, kNodeEth0, 9999));
  REQUIRE(tcp(node, kPeer, 8080));

  // A host endpoint with no policy at all: default deny both ways, failsafe ports open.
  n.apply("hep", hostEndpointYaml("node-1-eth0", "{hep: edge}", "eth0"));
  CHECK(eventually([&] { return !tcp(peer, kNodeEth0, 8080); }));
  CHECK_FALSE(udpEchoes(peer, kNodeEth0, 9999));
  CHECK(tcp(peer, kNodeEth0, 22));
  CHECK(tcp(peer, kNodeEth0, 6443));
  CHECK(udpEchoes(peer, kNodeEth0, 68));
  CHECK_FALSE(tcp(node, kPeer, 8080));  // egress too
  CHECK(tcp(node, kPeer, 2379));        // tcp 2379 is an outbound failsafe port
  // Loopback is never a host endpoint.
  CHECK(tcp(node, "127.0.0.1", 8080));

  // An explicit deny-all of lower precedence than one allow: the allow opens its port only;
  // the failsafe ports stay open under the deny.
  n.apply("policies",
          policy("allow-web", "hep == 'edge'",
                 "  order: 10\n  types: [Ingress]\n  ingress:\n  - action: Allow\n    protocol: TCP\n"
                 "    destination:\n      ports: [8080]\n") +
              "---\n" +
              policy("deny-all", "hep == 'edge'",
                     "  order: 100\n  types: [Ingress, Egress]\n  ingress:\n  - action: Deny\n"
                     "  egress:\n  - action: Deny\n"));
  CHECK(eventually([&] { return tcp(peer, kNodeEth0, 8080); }));
  CHECK_FALSE(tcp(peer, kNodeEth0, 8081));
  CHECK(tcp(peer, kNodeEth0, 22));
  CHECK(udpEchoes(peer, kNodeEth0, 68));
  CHECK_FALSE(udpEchoes(peer, kNodeEth0, 9999));
  CHECK(tcp(node, kPeer, 2379));
  CHECK_FALSE(tcp(node, kPeer, 8080));

  // The failsafe lists are the configuration's: new ports open, the old ones close.
  n.apply("config",
          "apiVersion: tartan.dev/v1\nkind: AgentConfiguration\nmetadata:\n  name: default\nspec:\n"
          "  failsafeInboundHostPorts:\n  - protocol: TCP\n    port: 8081\n"
          "  failsafeOutboundHostPorts:\n  - protocol: TCP\n    port: 8080\n");
  CHECK(eventually([&] { return tcp(peer, kNodeEth0, 8081); }, std::chrono::seconds(60)));
  CHECK(eventually([&] { return !tcp(peer, kNodeEth0, 22); }));
  CHECK_FALSE(udpEchoes(peer, kNodeEth0, 68));
  CHECK(tcp(node, kPeer, 8080));
  CHECK_FALSE(tcp(node, kPeer, 2379));
  CHECK(tcp(peer, kNodeEth0, 8080));  // still allowed by policy
}

TEST_CASE("a host endpoint found by its expected IPs is policed on the interface that holds them",
          "[kernel][hep]") {
  if (skipUnlessRoot()) return;
  HostNode n;
  DumpLogOnFailure dump{n};
  tt::EchoServer ssh(n.node(), "0.0.0.0", 22), web(n.node(), "0.0.0.0", 8080);
  n.startAgent();
  REQUIRE(tcp(n.peer(), kNodeEth0, 8080));
  REQUIRE(tcp(n.far(), kNodeEth1, 8080));
  n.apply("hep", hostEndpointYaml("node-1-by-ip", "{hep: edge}", "", kNodeEth0));
  n.apply("deny", policy("deny-in", "hep == 'edge'", "  types: [Ingress]\n  ingress:\n  - action: Deny\n"));
  CHECK(eventually([&] { return !tcp(n.peer(), kNodeEth0, 8080); }));
  CHECK(tcp(n.peer(), kNodeEth0, 22));
  // eth1 holds none of the expected IPs: not this endpoint.
  CHECK(tcp(n.far(), kNodeEth1, 8080));
}

TEST_CASE(
    "doNotTrack policy decides before conntrack: what it allows is never tracked, what it "
    "denies is dropped even if normal policy allows it",
    "[kernel][hep][untracked]") {
  if (skipUnlessRoot()) return;
  HostNode n;
  DumpLogOnFailure dump{n};
  const auto& node = n.node();
  const auto& peer = n.peer();
  // "::" takes IPv4 too (a dual-stack socket).
  tt::EchoServer ssh(node, "::", 22), web(node, "::", 8080), alt(node, "::", 8081), tracked(node, "::", 8082),
      etcd(peer, "::", 2379);
  n.startAgent();
  n.apply("hep", hostEndpointYaml("node-1-eth0", "{hep: edge}", "eth0"));
  n.apply("normal", policy("allow-all", "hep == 'edge'", kAllowAll));
  REQUIRE(eventually([&] { return tcp(peer, kNodeEth0, 8081); }));
  REQUIRE(tcp(peer, kNodeEth0V6, 8081));

  // Untracked: allow tcp 8080 in (and its replies out), deny tcp 8081 in.
  n.apply("untracked",
          policy("untracked", "hep == 'edge'",
                 "  doNotTrack: true\n  applyOnForward: true\n  types: [Ingress, Egress]\n"
                 "  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: [8080]\n"
                 "  - action: Deny\n    protocol: TCP\n    destination:\n      ports: [8081]\n"
                 "  egress:\n  - action: Allow\n    protocol: TCP\n    source:\n      ports: [8080]\n"));
  for (const Family& f : kBothFamilies) {
    INFO(f.name);
    CHECK(eventually([&] { return !tcp(peer, f.nodeEth0, 8081); }));

    // An allowed connection works end to end and leaves no conntrack entry behind it.
    const int untrackedConn = tt::connectFrom(peer, f.nodeEth0, 8080);
    REQUIRE(untrackedConn >= 0);
    CHECK(tt::echoes(untrackedConn));
    CHECK(n.conntrackEntries("tcp", 8080, f.family) == 0);
    // The same node tracks what the untracked policy does not decide.
    const int trackedConn = tt::connectFrom(peer, f.nodeEth0, 8082);
    REQUIRE(trackedConn >= 0);
    CHECK(tt::echoes(trackedConn));
    CHECK(n.conntrackEntries("tcp", 8082, f.family) >= 1);
    ::close(untrackedConn);
    ::close(trackedConn);
  }

  // An untracked deny-all cannot cut the failsafe ports — in either direction, replies included.
  n.apply("untracked", policy("untracked", "hep == 'edge'",
                              "  doNotTrack: true\n  applyOnForward: true\n  types: [Ingress, Egress]\n"
                              "  ingress:\n  - action: Deny\n  egress:\n  - action: Deny\n"));
  for (const Family& f : kBothFamilies) {
    INFO(f.name);
    CHECK(eventually([&] { return !tcp(peer, f.nodeEth0, 8080); }));
    CHECK_FALSE(tcp(peer, f.nodeEth0, 8082));
    // Neighbour discovery passes the untracked deny-all.
    if (f.family == IpFamily::kV6) forgetIpv6Neighbours(n);
    CHECK(tcp(peer, f.nodeEth0, 22));  // inbound failsafe: its replies leave through raw OUTPUT
    CHECK(tcp(node, f.peer, 2379));    // outbound failsafe: its replies arrive through raw PREROUTING
  }
}

TEST_CASE(
    "preDNAT policy decides on the destination a packet had before DNAT, and its allow "
    "skips normal host endpoint policy",
    "[kernel][hep][prednat]") {
  if (skipUnlessRoot()) return;
  HostNode n;
  DumpLogOnFailure dump{n};
  const auto& node = n.node();
  const auto& peer = n.peer();
  tt::EchoServer web(node, "::", 8080), alt(node, "::", 8081);
  // A NodePort-like DNAT in both families: tcp 9090 on eth0 goes to the local server on 8080.
  node.execOrThrow(std::string("iptables -t nat -A PREROUTING -i eth0 -p tcp --dport 9090 -j DNAT "
                               "--to-destination ") +
                   kNodeEth0 + ":8080");
  node.execOrThrow(std::string("ip6tables -t nat -A PREROUTING -i eth0 -p tcp --dport 9090 -j DNAT "
                               "--to-destination [") +
                   kNodeEth0V6 + "]:8080");
  n.startAgent();
  REQUIRE(tcp(peer, kNodeEth0, 9090));
  REQUIRE(tcp(peer, kNodeEth0V6, 9090));
  n.apply("hep", hostEndpointYaml("node-1-eth0", "{hep: edge}", "eth0"));
  n.apply("normal", policy("allow-all", "hep == 'edge'", kAllowAll));

  // Deny the original port: the DNAT'd connection is refused, the same server on its own port is not.
  const std::string preDnat = "  preDNAT: true\n  applyOnForward: true\n  types: [Ingress]\n  ingress:\n";
  n.apply("prednat",
          policy("prednat", "hep == 'edge'",
                 preDnat + "  - action: Deny\n    protocol: TCP\n    destination:\n      ports: [9090]\n"));
  for (const Family& f : kBothFamilies) {
    INFO(f.name);
    CHECK(eventually([&] { return !tcp(peer, f.nodeEth0, 9090); }));
    CHECK(tcp(peer, f.nodeEth0, 8080));
  }

  // Deny the port DNAT goes to: preDNAT never sees 8080 on the DNAT'd connection.
  n.apply("prednat",
          policy("prednat", "hep == 'edge'",
                 preDnat + "  - action: Deny\n    protocol: TCP\n    destination:\n      ports: [8080]\n"));
  for (const Family& f : kBothFamilies) {
    INFO(f.name);
    CHECK(eventually([&] { return !tcp(peer, f.nodeEth0, 8080); }));
    CHECK(tcp(peer, f.nodeEth0, 9090));
  }

  // A preDNAT allow skips normal policy (Calico: "if a packet is explicitly allowed by pre-DNAT
  // policy, it skips over any normal policy").
  n.apply("normal",
          policy("allow-all", "hep == 'edge'",
                 "  types: [Ingress, Egress]\n  ingress:\n  - action: Deny\n  egress:\n  - action: Allow\n"));
  n.apply("prednat",
          policy("prednat", "hep == 'edge'",
                 preDnat + "  - action: Allow\n    protocol: TCP\n    destination:\n      ports: [8081]\n"));
  for (const Family& f : kBothFamilies) {
    INFO(f.name);
    // No preDNAT verdict: normal policy denies.
    CHECK(eventually([&] { return !tcp(peer, f.nodeEth0, 9090); }));
    // Neighbour discovery passes preDNAT and normal policy alike.
    if (f.family == IpFamily::kV6) forgetIpv6Neighbours(n);
    CHECK(tcp(peer, f.nodeEth0, 8081));
  }
}

TEST_CASE("applyOnForward: only policy marked so applies to traffic forwarded through the host",
          "[kernel][hep][forward]") {
  if (skipUnlessRoot()) return;
  HostNode n;
  DumpLogOnFailure dump{n};
  const auto& peer = n.peer();
  tt::EchoServer web(n.node(), "0.0.0.0", 8080), farWeb(n.far(), "0.0.0.0", 8080),
      farAlt(n.far(), "0.0.0.0", 8081);
  UdpEchoServer farUdp(n.far(), "0.0.0.0", 5000);
  n.startAgent();
  REQUIRE(tcp(peer, kFar, 8080));
  n.apply("heps", hostEndpointYaml("node-1-eth0", "{hep: edge}", "eth0") + "---\n" +
                      hostEndpointYaml("node-1-eth1", "{hep: inner}", "eth1"));
  // Normal (not applyOnForward) deny-all: the host is closed, forwarding is untouched.
  n.apply("deny", policy("deny-all", "has(hep)",
                         "  types: [Ingress, Egress]\n  ingress:\n  - action: Deny\n"
                         "  egress:\n  - action: Deny\n"));
  CHECK(eventually([&] { return !tcp(peer, kNodeEth0, 8080); }));
  CHECK(tcp(peer, kFar, 8080));
  CHECK(udpEchoes(peer, kFar, 5000));

  // An applyOnForward ingress policy on eth0 allowing tcp 8081 isolates forwarded ingress there.
  n.apply("forward", policy("forward-in", "hep == 'edge'",
                            "  applyOnForward: true\n  types: [Ingress]\n  ingress:\n  - action: Allow\n"
                            "    protocol: TCP\n    destination:\n      ports: [8081]\n"));
  CHECK(eventually([&] { return !tcp(peer, kFar, 8080); }));
  CHECK(tcp(peer, kFar, 8081));  // out through eth1: no applyOnForward egress policy there, allowed
  CHECK_FALSE(udpEchoes(peer, kFar, 5000));
  // The reverse direction enters through eth1, which has no applyOnForward policy.
  tt::EchoServer peerWeb(peer, "0.0.0.0", 8080);
  CHECK(tcp(n.far(), kPeer, 8080));

  // An established forwarded connection survives the policy that would now refuse it.
  const int conn = tt::connectFrom(peer, kFar, 8081);
  REQUIRE(conn >= 0);
  n.apply("forward", policy("forward-in", "hep == 'edge'",
                            "  applyOnForward: true\n  types: [Ingress]\n  ingress:\n  - action: Allow\n"
                            "    protocol: TCP\n    destination:\n      ports: [8080]\n"));
  CHECK(eventually([&] { return tcp(peer, kFar, 8080); }));
  CHECK_FALSE(tcp(peer, kFar, 8081));
  CHECK(tt::echoes(conn));
  ::close(conn);

  // Without it, forwarding is open again.
  n.remove("forward");
  CHECK(eventually([&] { return tcp(peer, kFar, 8081); }));
  CHECK(udpEchoes(peer, kFar, 5000));
}

TEST_CASE(
    "over IPv6 too: default deny but for the failsafe ports, policy opens a port, the expected "
    "IPs are the endpoint's IPv6 addresses, and applyOnForward polices forwarded traffic",
    "[kernel][hep][ipv6]") {
  if (skipUnlessRoot()) return;
  HostNode n;
  DumpLogOnFailure dump{n};
  const auto& node = n.node();
  const auto& peer = n.peer();
  // "::" takes IPv4 too (a dual-stack socket).
  tt::EchoServer ssh(node, "::", 22), web(node, "::", 8080), alt(node, "::", 8081), etcd(peer, "::", 2379),
      peerWeb(peer, "::", 8080), farWeb(n.far(), "::", 8080), farAlt(n.far(), "::", 8081);
  UdpEchoServer dhcp(node, "::", 68), other(node, "::", 9999), farUdp(n.far(), "::", 5000);
  n.startAgent();
  REQUIRE(tcp(peer, kNodeEth0V6, 8080));
  REQUIRE(udpEchoes(peer, kNodeEth0V6, 9999));
  REQUIRE(tcp(peer, kFarV6, 8080));
  REQUIRE(tcp(node, kPeerV6, 8080));

  // Found by its IPv6 address alone, with no policy: default deny both ways, in both families.
  n.apply("hep", hostEndpointYaml("node-1-eth0", "{hep: edge}", "", "\"fd77::1\""));
  CHECK(eventually([&] { return !tcp(peer, kNodeEth0V6, 8080); }));
  // Neighbour discovery goes on under a host endpoint: every probe below first has to resolve
  // its neighbour again.
  forgetIpv6Neighbours(n);
  CHECK(tcp(peer, kNodeEth0V6, 22));
  CHECK(udpEchoes(peer, kNodeEth0V6, 68));
  CHECK_FALSE(udpEchoes(peer, kNodeEth0V6, 9999));
  CHECK_FALSE(tcp(peer, kNodeEth0, 8080));  // the interface is the endpoint, in IPv4 as well
  CHECK_FALSE(tcp(node, kPeerV6, 8080));
  CHECK(tcp(node, kPeerV6, 2379));
  CHECK(tcp(node, "::1", 8080));   // loopback is never a host endpoint
  CHECK(tcp(peer, kFarV6, 8080));  // normal host endpoint policy leaves forwarding alone

  // A destination selector that selects the host endpoint matches its expected IPs: the port is
  // open on fd77::1, not on the node's other address reached through the same interface, and
  // not in IPv4, where the endpoint has no expected IP.
  n.apply("policies",
          policy("allow-web", "hep == 'edge'",
                 "  order: 10\n  types: [Ingress]\n  ingress:\n  - action: Allow\n    protocol: TCP\n"
                 "    destination:\n      selector: \"hep == 'edge'\"\n      ports: [8080]\n") +
              "---\n" +
              policy("deny-all", "hep == 'edge'",
                     "  order: 100\n  types: [Ingress, Egress]\n  ingress:\n  - action: Deny\n"
                     "  egress:\n  - action: Deny\n"));
  CHECK(eventually([&] { return tcp(peer, kNodeEth0V6, 8080); }));
  CHECK_FALSE(tcp(peer, kNodeEth1V6, 8080));
  CHECK_FALSE(tcp(peer, kNodeEth0, 8080));
  CHECK_FALSE(tcp(peer, kNodeEth0V6, 8081));
  CHECK(tcp(peer, kNodeEth0V6, 22));
  CHECK(tcp(node, kPeerV6, 2379));
  CHECK_FALSE(tcp(node, kPeerV6, 8080));

  // applyOnForward ingress policy on eth0 allowing tcp 8081: forwarded IPv6 through eth0 is
  // isolated; the reverse direction enters through eth1, which is no endpoint.
  n.apply("forward", policy("forward-in", "hep == 'edge'",
                            "  applyOnForward: true\n  types: [Ingress]\n  ingress:\n  - action: Allow\n"
                            "    protocol: TCP\n    destination:\n      ports: [8081]\n"));
  CHECK(eventually([&] { return !tcp(peer, kFarV6, 8080); }));
  CHECK(tcp(peer, kFarV6, 8081));
  CHECK_FALSE(udpEchoes(peer, kFarV6, 5000));
  CHECK(tcp(n.far(), kPeerV6, 8080));
  n.remove("forward");
  CHECK(eventually([&] { return tcp(peer, kFarV6, 8080); }));
  CHECK(udpEchoes(peer, kFarV6, 5000));
}

TEST_CASE(
    "an all-interfaces host endpoint polices every host interface but loopback, a specific "
    "interface's endpoint wins on that interface, and doNotTrack policy does not apply to it",
    "[kernel][hep][all-interfaces]") {
  if (skipUnlessRoot()) return;
  HostNode n;
  DumpLogOnFailure dump{n};
  const auto& node = n.node();
  const auto& peer = n.peer();
  const auto& far = n.far();
  tt::EchoServer ssh(node, "::", 22), web(node, "::", 8080), alt(node, "::", 8081),
      etcd(peer, "0.0.0.0", 2379), peerWeb(peer, "0.0.0.0", 8080), farWeb(far, "0.0.0.0", 8080),
      farAlt(far, "0.0.0.0", 8081);
  n.startAgent();
  REQUIRE(tcp(peer, kNodeEth0, 8081));
  REQUIRE(tcp(far, kNodeEth1, 8081));

  n.apply("hep", hostEndpointYaml("node-1-all", "{hep: all}", "\"*\""));
  n.apply("allow", policy("allow-web", "hep == 'all'",
                          "  types: [Ingress]\n  ingress:\n  - action: Allow\n    protocol: TCP\n"
                          "    destination:\n      ports: [8080]\n"));
  CHECK(eventually([&] { return !tcp(peer, kNodeEth0, 8081); }));
  CHECK(tcp(peer, kNodeEth0, 8080));
  CHECK(tcp(peer, kNodeEth0, 22));
  CHECK_FALSE(tcp(far, kNodeEth1, 8081));
  CHECK(tcp(far, kNodeEth1, 8080));
  CHECK(tcp(far, kNodeEth1, 22));
  CHECK_FALSE(tcp(far, kNodeEth1V6, 8081));
  CHECK(tcp(far, kNodeEth1V6, 8080));
  // No egress policy: egress is denied on every interface, but for the failsafe ports.
  CHECK_FALSE(tcp(node, kPeer, 8080));
  CHECK_FALSE(tcp(node, kFar, 8080));
  CHECK(tcp(node, kPeer, 2379));
  // Loopback is not covered, nor the node's own addresses (local traffic goes over loopback).
  CHECK(tcp(node, "127.0.0.1", 8081));
  CHECK(tcp(node, "::1", 8081));
  CHECK(tcp(node, kNodeEth1, 8081));
  // Normal policy is not for forwarded traffic.
  CHECK(tcp(peer, kFar, 8080));

  // doNotTrack policy is not applied to an all-interfaces endpoint (as in Calico): this untracked
  // deny of tcp 8080 changes nothing. The eth0 endpoint applied after it shows when the agent
  // has taken both in.
  n.apply("untracked", policy("untracked", "hep == 'all'",
                              "  doNotTrack: true\n  applyOnForward: true\n  types: [Ingress]\n"
                              "  ingress:\n  - action: Deny\n    protocol: TCP\n    destination:\n"
                              "      ports: [8080]\n"));
  // A specific endpoint for eth0 takes eth0's traffic; the all-interfaces one keeps the rest.
  n.apply("eth0", hostEndpointYaml("node-1-eth0", "{hep: edge}", "eth0") + "---\n" +
                      policy("allow-alt", "hep == 'edge'",
                             "  types: [Ingress]\n  ingress:\n  - action: Allow\n    protocol: TCP\n"
                             "    destination:\n      ports: [8081]\n"));
  CHECK(eventually([&] { return tcp(peer, kNodeEth0, 8081); }));
  CHECK_FALSE(tcp(peer, kNodeEth0, 8080));
  CHECK(tcp(peer, kNodeEth0, 22));
  CHECK_FALSE(tcp(far, kNodeEth1, 8081));
  CHECK(tcp(far, kNodeEth1, 8080));  // the untracked deny would have dropped it

  // Without the specific endpoint, eth0 falls back to the all-interfaces one.
  n.remove("eth0");
  CHECK(eventually([&] { return !tcp(peer, kNodeEth0, 8081); }));
  CHECK(tcp(peer, kNodeEth0, 8080));

  // Its applyOnForward policy does police forwarded traffic, in through eth0 and eth1 alike.
  n.apply("forward", policy("forward-in", "hep == 'all'",
                            "  applyOnForward: true\n  types: [Ingress]\n  ingress:\n  - action: Allow\n"
                            "    protocol: TCP\n    destination:\n      ports: [8081]\n"));
  CHECK(eventually([&] { return !tcp(peer, kFar, 8080); }));
  CHECK(tcp(peer, kFar, 8081));
  CHECK_FALSE(tcp(far, kPeer, 8080));
}

TEST_CASE(
    "Calico's HostEndpoint with projectcalico-default-allow stays open until policy selects it; "
    "FELIX_ settings configure the agent",
    "[kernel][hep][calico]") {
  if (skipUnlessRoot()) return;
  HostNode n;
  DumpLogOnFailure dump{n};
  const auto& node = n.node();
  const auto& peer = n.peer();
  tt::EchoServer web(node, "0.0.0.0", 8080), alt(node, "0.0.0.0", 8081), ssh(node, "0.0.0.0", 22),
      peerWeb(peer, "0.0.0.0", 8080);
  UdpEchoServer other(node, "0.0.0.0", 9999);
  // Felix's environment, as a calico-node DaemonSet sets it: port 8081 is the only inbound
  // failsafe port (22 is not), and a setting Tartan does not act on is reported, not dropped.
  n.startAgent({"FELIX_FAILSAFEINBOUNDHOSTPORTS=tcp:8081", "FELIX_DEBUGPORT=6060"});
  CHECK_THAT(n.agentLog(), Catch::Contains("FELIX_DEBUGPORT: is set but not enforced"));

  // The manifest as Calico's documentation writes it: projectcalico.org/v3, the built-in profile.
  n.apply("hep", R"(apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata:
  name: node-1-eth0
  labels: {hep: edge}
spec:
  node: node-1
  interfaceName: eth0
  profiles: [projectcalico-default-allow]
)");
  // The host endpoint is in force (traffic on 22 is no longer failsafe, and no policy selects
  // the endpoint), yet the profile allows everything both ways.
  CHECK(eventually([&] {
    const std::string rules = node.execOrThrow("iptables-save -t filter");
    return rules.find("-A tartan-th-eth0") != std::string::npos &&
           rules.find("-j tartan-pri-") != std::string::npos;
  }));
  CHECK(tcp(peer, kNodeEth0, 8080));
  CHECK(tcp(peer, kNodeEth0, 22));
  CHECK(udpEchoes(peer, kNodeEth0, 9999));
  CHECK(tcp(node, kPeer, 8080));

  // A policy that selects the endpoint decides now; the profile no longer applies inbound.
  n.apply("policy", policy("allow-web", "hep == 'edge'",
                           "  types: [Ingress]\n  ingress:\n  - action: Allow\n    protocol: TCP\n"
                           "    destination:\n      ports: [8080]\n"));
  CHECK(eventually([&] { return !tcp(peer, kNodeEth0, 22); }));  // 22 is not failsafe here
  CHECK(tcp(peer, kNodeEth0, 8080));
  CHECK(tcp(peer, kNodeEth0, 8081));  // FELIX_FAILSAFEINBOUNDHOSTPORTS
  CHECK_FALSE(udpEchoes(peer, kNodeEth0, 9999));
  CHECK(tcp(node, kPeer, 8080));  // no egress policy: the profile still allows it
}
