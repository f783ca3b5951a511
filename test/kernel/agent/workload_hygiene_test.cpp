// Felix's workload hygiene with the real agent and real packets: a pod's VXLAN-shaped (UDP to
// vxlanPort) and IP-in-IP (protocol 4) packets are dropped on their way out of it unless
// allowVXLANPacketsFromWorkloads / allowIPIPPacketsFromWorkloads say otherwise, while other UDP
// passes; a SYN+FIN segment (conntrack INVALID) is dropped unless disableConntrackInvalidCheck;
// the settings and vxlanPort change while the agent runs. No IPIP module is needed: a raw
// protocol-4 socket sends and receives such packets all the same. A deleted pod's conntrack
// entries go with it, so the old flow cannot reach the next pod given its address. Workload
// routes carry deviceRouteProtocol and deviceRouteSourceAddress, and removeExternalRoutes decides
// whether someone else's route to a workload interface stays. serviceLoopPrevention rejects or
// drops a pod's packets to an unbacked address of the BGPConfiguration's service ranges.
#include "kernel/dataplane_iptables/traffic.hpp"
#include "support/agent_node.hpp"
#include "support/agent_process.hpp"
#include "support/eventually.hpp"
#include "support/netns.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace tt = tartan::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kClient = "10.65.0.2";
constexpr const char* kServer = "10.65.0.3";

// A socket opened inside `ns` (it stays there), closed on scope exit.
struct Socket {
  int fd = -1;
  Socket(const tt::NetNamespace& ns, int type, int protocol) {
    tt::EnterNamespace in(ns);
    fd = ::socket(AF_INET, type | SOCK_CLOEXEC, protocol);
    REQUIRE(fd >= 0);
  }
  ~Socket() { ::close(fd); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
};

sockaddr_in address(const char* ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  REQUIRE(::inet_pton(AF_INET, ip, &a.sin_addr) == 1);
  return a;
}

// Whether a datagram carrying `marker` arrives on `fd` within `wait` (others are skipped).
bool receives(int fd, const std::string& marker, std::chrono::milliseconds wait) {
  const auto end = std::chrono::steady_clock::now() + wait;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left <= 0ms) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) != 1) return false;
    char buffer[2048];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0 && std::string(buffer, static_cast<size_t>(n)).find(marker) != std::string::npos) return true;
  }
}

// One UDP datagram from the client pod to the server pod's `port`: whether it arrived.
bool udpArrives(const tt::AgentPod& client, const tt::AgentPod& server, int port) {
  Socket in(*server.netns, SOCK_DGRAM, 0);
  const sockaddr_in bound = address(kServer, port);
  REQUIRE(::bind(in.fd, reinterpret_cast<const sockaddr*>(&bound), sizeof bound) == 0);
  Socket out(*client.netns, SOCK_DGRAM, 0);
  const std::string marker = "udp-" + std::to_string(port) + "-" + std::to_string(::getpid());
  ::sendto(out.fd, marker.data(), marker.size(), 0, reinterpret_cast<const sockaddr*>(&bound), sizeof bound);
  return receives(in.fd, marker, 700ms);
}

// One IP-in-IP packet (protocol 4; its payload need not be a real inner packet): whether it arrived.
bool ipipArrives(const tt::AgentPod& client, const tt::AgentPod& server) {
  Socket in(*server.netns, SOCK_RAW, IPPROTO_IPIP);
  Socket out(*client.netns, SOCK_RAW, IPPROTO_IPIP);
  const sockaddr_in to = address(kServer, 0);
  const std::string marker = "ipip-" + std::to_string(::getpid());
  ::sendto(out.fd, marker.data(), marker.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  return receives(in.fd, marker, 700ms);
}

// One TCP segment with SYN and FIN both set (conntrack calls it INVALID: no TCP state has it),
// checksummed, carrying a marker: whether it arrived.
bool invalidArrives(const tt::AgentPod& client, const tt::AgentPod& server) {
  Socket in(*server.netns, SOCK_RAW, IPPROTO_TCP);
  Socket out(*client.netns, SOCK_RAW, IPPROTO_TCP);
  const std::string marker = "invalid-" + std::to_string(::getpid());
  std::vector<uint8_t> segment(20 + marker.size(), 0);
  auto put16 = [&](size_t at, uint16_t v) {
    segment[at] = static_cast<uint8_t>(v >> 8);
    segment[at + 1] = static_cast<uint8_t>(v);
  };
  put16(0, 40123);            // source port
  put16(2, 7000);             // destination port
  segment[7] = 1;             // sequence number
  segment[12] = 5 << 4;       // header length: 5 words
  segment[13] = 0x02 | 0x01;  // SYN | FIN
  put16(14, 65535);           // window
  std::memcpy(segment.data() + 20, marker.data(), marker.size());
  // RFC 793: the one's complement sum over the pseudo header (addresses, protocol, length) and
  // the segment.
  const sockaddr_in from = address(kClient, 0), to = address(kServer, 0);
  uint32_t sum = 0;
  auto add = [&](const uint8_t* bytes, size_t n) {
    for (size_t i = 0; i < n; i += 2) sum += (bytes[i] << 8) | (i + 1 < n ? bytes[i + 1] : 0);
  };
  add(reinterpret_cast<const uint8_t*>(&from.sin_addr), 4);
  add(reinterpret_cast<const uint8_t*>(&to.sin_addr), 4);
  sum += IPPROTO_TCP + static_cast<uint32_t>(segment.size());
  add(segment.data(), segment.size());
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  put16(16, static_cast<uint16_t>(~sum));
  ::sendto(out.fd, segment.data(), segment.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  return receives(in.fd, marker, 700ms);
}

std::string agentConfiguration(const std::string& extra) {
  return std::string("apiVersion: tartan.dev/v1\nkind: AgentConfiguration\nmetadata:\n  name: default\n") +
         "spec:\n  interfacePrefix: " + tt::AgentNode::kInterfacePrefix + "\n" + extra;
}

}  // namespace

TEST_CASE("a pod's VXLAN and IP-in-IP packets are dropped unless allowed; other UDP passes",
          "[kernel][agent]") {
  if (!tt::haveNetAdmin()) return;
  tt::AgentNode node("wh");
  auto& client = node.pod("apps", "client", kClient, "{app: client}");
  auto& server = node.pod("apps", "server", kServer, "{app: server}");
  node.applyPods();
  tt::AgentProcess agent(node.node, node.agentOptions());
  REQUIRE(agent.waitReady(60s));
  INFO(node.agentLog());
  auto filterRules = [&] { return node.node.execOrThrow("iptables-save -t filter"); };

  // Felix's defaults: no policy at all, and still the encapsulations do not leave the pod.
  REQUIRE(tt::eventually([&] { return udpArrives(client, server, 4790); }, 20s));
  CHECK(!udpArrives(client, server, 4789));
  CHECK(!ipipArrives(client, server));
  // Only the pod's own packets: towards a pod they are not singled out (the host may send them).
  CHECK(filterRules().find("--dport 4789 -j DROP") != std::string::npos);
  CHECK(filterRules().find("--ctstate INVALID -j DROP") != std::string::npos);
  CHECK(!invalidArrives(client, server));  // disableConntrackInvalidCheck false

  // Allowed: both reach the server; the INVALID check is switched off too.
  node.apply("config", agentConfiguration("  allowVXLANPacketsFromWorkloads: true\n"
                                          "  allowIPIPPacketsFromWorkloads: true\n"
                                          "  disableConntrackInvalidCheck: true\n"));
  CHECK(tt::eventually([&] { return udpArrives(client, server, 4789); }, 20s));
  CHECK(tt::eventually([&] { return ipipArrives(client, server); }, 20s));
  CHECK(filterRules().find("--ctstate INVALID") == std::string::npos);
  CHECK(tt::eventually([&] { return invalidArrives(client, server); }, 20s));

  // vxlanPort moves the drop; IP-in-IP allowed still.
  node.apply("config", agentConfiguration("  allowIPIPPacketsFromWorkloads: true\n  vxlanPort: 4790\n"));
  CHECK(tt::eventually([&] { return !udpArrives(client, server, 4790); }, 20s));
  CHECK(udpArrives(client, server, 4789));
  CHECK(ipipArrives(client, server));
  CHECK(filterRules().find("--ctstate INVALID -j DROP") != std::string::npos);
  CHECK(!invalidArrives(client, server));

  // A policy's Allow of everything does not reopen them: the drop comes before policy.
  node.apply("config", agentConfiguration(""));
  node.apply("policy", R"(apiVersion: tartan.dev/v1
kind: GlobalNetworkPolicy
metadata:
  name: allow-all-egress
spec:
  selector: app == 'client'
  types: [Egress]
  egress:
  - action: Allow
)");
  CHECK(tt::eventually([&] { return !ipipArrives(client, server); }, 20s));
  CHECK(tt::eventually([&] { return !udpArrives(client, server, 4789); }, 20s));
  CHECK(udpArrives(client, server, 4790));
  CHECK(agent.stop() == 0);
}

namespace {

// The conntrack entries of the node that mention `ip`, as the conntrack tool lists them.
int flowsOf(const tt::AgentNode& node, const std::string& ip) {
  const auto listed = node.node.exec("conntrack -L 2>/dev/null");
  int n = 0;
  std::istringstream lines(listed.output);
  for (std::string line; std::getline(lines, line);)
    if (line.find("=" + ip + " ") != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE("a deleted pod's conntrack entries go with it; a new pod given its address meets policy",
          "[kernel][agent]") {
  if (!tt::haveNetAdmin()) return;
  tt::AgentNode node("ct");
  auto& client = node.pod("apps", "client", kClient, "{app: client}");
  auto& server = node.pod("apps", "server", kServer, "{app: server}");
  auto& other = node.pod("apps", "other", "10.65.0.4", "{app: other}");
  node.applyPods();
  // Whatever is given the server's address next is isolated: nothing may come in.
  node.apply("policy", R"(apiVersion: tartan.dev/v1
kind: GlobalNetworkPolicy
metadata:
  name: isolate-newcomer
spec:
  selector: app == 'newcomer'
  types: [Ingress]
)");
  tt::AgentProcess agent(node.node, node.agentOptions());
  REQUIRE(agent.waitReady(60s));
  INFO(node.agentLog());
  auto toServer = std::make_unique<tt::EchoServer>(*server.netns, kServer, 7000);
  tt::EchoServer toOther(*other.netns, "10.65.0.4", 7000);
  REQUIRE(tt::eventually([&] { return tt::canConnect(*client.netns, kServer, 7000); }, 20s));
  const int kept = tt::connectFrom(*client.netns, kServer, 7000);
  const int untouched = tt::connectFrom(*client.netns, "10.65.0.4", 7000);
  REQUIRE(kept >= 0);
  REQUIRE(untouched >= 0);
  REQUIRE(tt::echoes(kept));
  REQUIRE(tt::echoes(untouched));
  REQUIRE(flowsOf(node, kServer) >= 1);

  // The pod goes (its Pod resource, its namespace and veth); its flows go with it, both
  // directions, and only its.
  toServer.reset();  // its close is answered at once, before the pod is deleted
  server.netns.reset();
  // The kernel drops the route with the veth.
  REQUIRE(tt::eventually([&] { return node.node.exec("ip route show 10.65.0.3").output.empty(); }, 20s));
  REQUIRE(node.ctl("delete pod server -n apps").exitCode == 0);
  CHECK(tt::eventually([&] { return flowsOf(node, kServer) == 0; }, 20s));
  CHECK(flowsOf(node, "10.65.0.4") >= 1);
  CHECK(tt::echoes(untouched));
  CHECK(node.agentLog().find("conntrack: ") != std::string::npos);

  // A new pod is given the address. The old connection's next packet is a new flow to it, so
  // policy decides (and drops it): the new pod never sees it, so it never answers with a reset.
  auto& newcomer = node.pod("apps", "newcomer", kServer, "{app: newcomer}");
  node.apply("newcomer",
             "apiVersion: v1\nkind: Pod\nmetadata:\n  name: newcomer\n  namespace: apps\n  labels: {app: "
             "newcomer}\nspec:\n  nodeName: node-1\n  containers:\n  - name: c\nstatus:\n  phase: Running\n  "
             "podIP: 10.65.0.3\n  podIPs:\n  - ip: 10.65.0.3\n");
  const std::string veth =
      tartan::calc::CalcGraph::vethNameForWorkload(tt::AgentNode::kInterfacePrefix, "apps", "newcomer");
  REQUIRE(tt::eventually(
      [&] { return node.node.exec("ip route show 10.65.0.3").output.find(veth) != std::string::npos; }, 20s));
  CHECK(!tt::echoes(kept, 1500));
  int error = 0;
  socklen_t length = sizeof error;
  ::getsockopt(kept, SOL_SOCKET, SO_ERROR, &error, &length);
  CHECK(error == 0);  // not reset: nothing of the new pod's answered
  (void)newcomer;
  ::close(kept);
  ::close(untouched);
  CHECK(agent.stop() == 0);
}

TEST_CASE("workload routes carry deviceRouteProtocol and deviceRouteSourceAddress; external ones go",
          "[kernel][agent]") {
  if (!tt::haveNetAdmin()) return;
  tt::AgentNode node("rt");
  node.pod("apps", "client", kClient, "{app: client}");
  node.applyPods();
  const std::string veth =
      tartan::calc::CalcGraph::vethNameForWorkload(tt::AgentNode::kInterfacePrefix, "apps", "client");
  node.node.execOrThrow("ip addr add 192.0.2.10/32 dev uplink");  // a source must be the node's own
  // Re-read routes often, so that a route put there by hand is seen within the test.
  node.apply("config", agentConfiguration("  routeRefreshInterval: 1s\n"));
  tt::AgentProcess agent(node.node, node.agentOptions());
  REQUIRE(agent.waitReady(60s));
  INFO(node.agentLog());
  auto route = [&](const std::string& dst) { return node.node.exec("ip route show " + dst).output; };
  // Unset: Tartan's own protocol, no source.
  REQUIRE(tt::eventually([&] { return route(kClient).find("proto 116") != std::string::npos; }, 20s));
  CHECK(route(kClient).find(" src ") == std::string::npos);

  // Someone else's route to the workload's interface: removed (removeExternalRoutes, true) ...
  node.node.execOrThrow("ip route add 10.99.0.5/32 dev " + veth);
  CHECK(tt::eventually([&] { return route("10.99.0.5").empty(); }, 20s));
  // ... but not one to another interface.
  node.node.execOrThrow("ip route add 10.99.0.6/32 dev uplink");

  // Set while the agent runs: the route is replaced in place with the new protocol and source.
  node.apply("config", agentConfiguration("  routeRefreshInterval: 1s\n  deviceRouteProtocol: 80\n"
                                          "  deviceRouteSourceAddress: 192.0.2.10\n"
                                          "  removeExternalRoutes: false\n"));
  CHECK(tt::eventually(
      [&] {
        const std::string r = route(kClient);
        return r.find("proto 80") != std::string::npos && r.find("src 192.0.2.10") != std::string::npos;
      },
      20s));
  CHECK(route(kClient).find("proto 116") == std::string::npos);
  // removeExternalRoutes false: a route of another protocol to the workload stays, refresh after refresh.
  node.node.execOrThrow("ip route add 10.99.0.7/32 dev " + veth);
  const auto since = std::chrono::steady_clock::now();
  CHECK(!tt::eventually([&] { return route("10.99.0.7").empty(); }, 3s));
  CHECK(std::chrono::steady_clock::now() - since >= 3s);
  CHECK(!route("10.99.0.6").empty());
  CHECK(agent.stop() == 0);
}

namespace {

// One TCP connect from `ns`: 0 when it connected, else the socket's error (ETIMEDOUT: no answer).
int connectError(const tt::NetNamespace& ns, const char* ip, int port, std::chrono::milliseconds wait) {
  Socket s(ns, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const sockaddr_in to = address(ip, port);
  if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)
    return errno;
  pollfd p{s.fd, POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return ETIMEDOUT;
  int error = 0;
  socklen_t length = sizeof error;
  ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &error, &length);
  return error;
}

}  // namespace

TEST_CASE("serviceLoopPrevention denies what is still addressed to a service range after DNAT",
          "[kernel][agent]") {
  if (!tt::haveNetAdmin()) return;
  tt::AgentNode node("sl");
  auto& client = node.pod("apps", "client", kClient, "{app: client}");
  node.applyPods();
  // The cluster's service ranges, advertised by BGP; nothing here backs 10.96.0.10.
  node.apply("bgp", R"(apiVersion: tartan.dev/v1
kind: BGPConfiguration
metadata:
  name: default
spec:
  serviceClusterIPs:
  - cidr: 10.96.0.0/12
  serviceExternalIPs:
  - cidr: 198.51.100.0/24
)");
  node.apply("config", agentConfiguration("  serviceLoopPrevention: Reject\n"));
  tt::AgentProcess agent(node.node, node.agentOptions());
  REQUIRE(agent.waitReady(60s));
  INFO(node.agentLog());
  auto block = [&] { return node.node.exec("iptables -S tartan-cidr-block 2>/dev/null").output; };
  // The chain's rule for `cidr` ("" if none), its hash comment between match and target.
  auto ruleFor = [&](const std::string& cidr) {
    std::istringstream lines(block());
    for (std::string line; std::getline(lines, line);)
      if (line.find("-d " + cidr + " ") != std::string::npos) return line;
    return std::string();
  };
  auto verdict = [&](const std::string& cidr, const std::string& target) {
    return ruleFor(cidr).find("-j " + target) != std::string::npos;
  };
  // Reject: the pod's connect to an unbacked service address is refused at once by the node.
  REQUIRE(tt::eventually([&] { return verdict("10.96.0.0/12", "REJECT"); }, 20s));
  CHECK(verdict("198.51.100.0/24", "REJECT"));
  CHECK(connectError(*client.netns, "10.96.0.10", 80, 3000ms) == ECONNREFUSED);
  CHECK(connectError(*client.netns, "198.51.100.7", 443, 3000ms) == ECONNREFUSED);

  // Drop (Felix's default): no answer; the kernel's own counter shows where it stopped.
  node.apply("config", agentConfiguration(""));
  REQUIRE(tt::eventually([&] { return verdict("10.96.0.0/12", "DROP"); }, 20s));
  CHECK(connectError(*client.netns, "10.96.0.10", 80, 1000ms) == ETIMEDOUT);
  const auto counted = node.node.exec("iptables -L tartan-cidr-block -v -x -n").output;
  CHECK(counted.find("10.96.0.0/12") != std::string::npos);
  CHECK(counted.find("\n       0     0 DROP") == std::string::npos);  // the first rule matched packets

  // A range removed from the BGPConfiguration goes from the chain; Disabled removes the chain.
  node.apply("bgp", R"(apiVersion: tartan.dev/v1
kind: BGPConfiguration
metadata:
  name: default
spec:
  serviceClusterIPs:
  - cidr: 10.96.0.0/12
)");
  CHECK(tt::eventually([&] { return ruleFor("198.51.100.0/24").empty(); }, 20s));
  CHECK(verdict("10.96.0.0/12", "DROP"));
  node.apply("config", agentConfiguration("  serviceLoopPrevention: Disabled\n"));
  CHECK(tt::eventually([&] { return block().empty(); }, 20s));
  CHECK(node.node.execOrThrow("iptables -S tartan-FORWARD").find("tartan-cidr-block") == std::string::npos);
  CHECK(agent.stop() == 0);
}
