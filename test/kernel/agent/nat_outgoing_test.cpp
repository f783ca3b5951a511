// Outgoing NAT (IPPool natOutgoing) with the real agent and real namespaces: a node namespace
// running tartan-agent on a file datastore, a pod namespace behind a veth with pool addresses
// (IPv4 and IPv6), and an "outside" namespace reached through the node that also stands for
// other nodes' pods (a route to the pools through the node, pool addresses of its own). A server
// on the outside answers each connection with the peer address it saw, which says whether the
// pod's traffic was NATed and to what.
#include "support/agent_node.hpp"
#include "support/agent_process.hpp"
#include "support/eventually.hpp"
#include "support/netns.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tt = tartan::test;
using namespace std::chrono_literals;

namespace {

constexpr int kPort = 7070;

socklen_t fill(const std::string& ip, int port, sockaddr_storage& out) {
  out = {};
  if (ip.find(':') == std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in*>(&out);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, ip.c_str(), &a->sin_addr) != 1) throw std::runtime_error("bad address " + ip);
    return sizeof(sockaddr_in);
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&out);
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr) != 1) throw std::runtime_error("bad address " + ip);
  return sizeof(sockaddr_in6);
}

// Listens on every address of one family in `ns` and writes each client's address back to it.
class PeerReporter {
 public:
  PeerReporter(const tt::NetNamespace& ns, const std::string& any) {
    tt::EnterNamespace in(ns);
    sockaddr_storage addr{};
    const socklen_t len = fill(any, kPort, addr);
    fd_ = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (addr.ss_family == AF_INET6) ::setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 16) != 0)
      throw std::runtime_error("reporter bind/listen: " + std::string(std::strerror(errno)));
    thread_ = std::thread([this] { run(); });
  }
  ~PeerReporter() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  PeerReporter(const PeerReporter&) = delete;
  PeerReporter& operator=(const PeerReporter&) = delete;

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      const int client = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
      if (client < 0) continue;
      char text[INET6_ADDRSTRLEN] = {};
      int port = 0;
      if (peer.ss_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, text, sizeof text);
        port = ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port);
      } else {
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, text, sizeof text);
        port = ntohs(reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port);
      }
      const std::string line = std::string(text) + " " + std::to_string(port) + "\n";
      (void)!::send(client, line.data(), line.size(), MSG_NOSIGNAL);
      ::close(client);
    }
  }
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Connects from `ns` to `ip` and returns the address the server saw ("" if no connection), and
// in `port` the source port it saw.
std::string seenFrom(const tt::NetNamespace& ns, const std::string& ip, int* port = nullptr) {
  tt::EnterNamespace in(ns);
  sockaddr_storage addr{};
  const socklen_t len = fill(ip, kPort, addr);
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0) {
    char buf[128];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  const auto space = out.find(' ');
  if (port != nullptr) *port = space == std::string::npos ? 0 : std::atoi(out.c_str() + space + 1);
  return out.substr(0, space);
}

std::string pool(const std::string& name, const std::string& cidr, bool natOutgoing) {
  return "apiVersion: tartan.dev/v1\nkind: IPPool\nmetadata:\n  name: " + name + "\nspec:\n  cidr: " + cidr +
         "\n  natOutgoing: " + (natOutgoing ? "true" : "false") + "\n";
}

std::string agentConfiguration(const std::string& natOutgoingAddress) {
  return std::string(
             "apiVersion: tartan.dev/v1\nkind: AgentConfiguration\nmetadata:\n  name: default\nspec:\n") +
         "  interfacePrefix: " + tt::AgentNode::kInterfacePrefix + "\n" +
         (natOutgoingAddress.empty() ? "" : "  natOutgoingAddress: " + natOutgoingAddress + "\n");
}

// Polls until connections from the pod to `ip` are seen from `expected`; the last answer if not.
std::string expectSeen(const tt::NetNamespace& pod, const std::string& ip, const std::string& expected) {
  std::string seen;
  tt::eventually([&] { return (seen = seenFrom(pod, ip)) == expected; }, 20s, 200ms);
  return seen;
}

}  // namespace

TEST_CASE("natOutgoing: a pool's traffic to the outside leaves with the node's address, never to a pool") {
  if (!tt::haveNetAdmin()) return;
  tt::AgentNode node("nat");
  tt::NetNamespace outside("nat-out");
  tt::NetNamespace pod("nat-pod");

  // Outside: 198.18.0.2 and 2001:db8:ff::2 on the link to the node, plus addresses inside the
  // pools (other nodes' pods), and routes to the pools through the node.
  tt::vethPair(node.node, "out0", outside, "eth0");
  node.node.execOrThrow(
      "ip addr add 198.18.0.1/24 dev out0 && ip -6 addr add 2001:db8:ff::1/64 dev out0 nodad && ip link set "
      "out0 up && "
      "ip addr add 198.18.0.100/32 dev lo && ip link set lo up && "
      "ip route add 10.65.200.0/24 via 198.18.0.2 && ip route add 10.70.0.0/16 via 198.18.0.2 && "
      "ip -6 route add fd00:65:0:c8::/64 via 2001:db8:ff::2");
  outside.execOrThrow(
      "ip link set lo up && ip addr add 198.18.0.2/24 dev eth0 && ip -6 addr add 2001:db8:ff::2/64 dev eth0 "
      "nodad && "
      "ip link set eth0 up && ip addr add 10.65.200.9/32 dev lo && ip addr add 10.70.0.9/32 dev lo && "
      "ip -6 addr add fd00:65:0:c8::9/128 dev lo && "
      "ip route add 10.65.0.0/16 via 198.18.0.1 && ip -6 route add fd00:65::/48 via 2001:db8:ff::1");

  // The pod, dual-stack, as Tartan's CNI plugin makes it: the host end's MAC gives the IPv6
  // gateway fe80::ecee:eeff:feee:eeee; the agent adds the routes to the pod and proxy ARP.
  const std::string veth =
      tartan::calc::CalcGraph::vethNameForWorkload(tt::AgentNode::kInterfacePrefix, "apps", "web");
  node.node.execOrThrow("ip link add " + veth + " type veth peer name eth0 netns " + pod.name() +
                        " && ip link set " + veth + " address ee:ee:ee:ee:ee:ee && ip link set " + veth +
                        " up");
  pod.execOrThrow(
      "ip link set lo up && ip link set eth0 up && ip addr add 10.65.0.5/32 dev eth0 && "
      "ip -6 addr add fd00:65::5/128 dev eth0 nodad && ip route add 169.254.1.1 dev eth0 scope link && "
      "ip route add default via 169.254.1.1 dev eth0 && "
      "ip -6 route add default via fe80::ecee:eeff:feee:eeee dev eth0");
  node.apply(
      "pod",
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n---\n"
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  nodeName: node-1\n"
      "  containers:\n  - name: c\nstatus:\n  phase: Running\n  podIP: 10.65.0.5\n  podIPs:\n"
      "  - ip: 10.65.0.5\n  - ip: fd00:65::5\n");
  node.apply("pools", pool("v4", "10.65.0.0/16", true) + "---\n" + pool("other", "10.70.0.0/16", false) +
                          "---\n" + pool("v6", "fd00:65::/48", true));

  PeerReporter reporter4(outside, "0.0.0.0");
  PeerReporter reporter6(outside, "::");
  tt::AgentProcess agent(node.node, node.agentOptions());
  REQUIRE(agent.waitReady(60s));
  INFO(node.agentLog());

  SECTION("natOutgoing true: the outside sees the node's address, IPv4 and IPv6") {
    CHECK(expectSeen(pod, "198.18.0.2", "198.18.0.1") == "198.18.0.1");
    CHECK(expectSeen(pod, "2001:db8:ff::2", "2001:db8:ff::1") == "2001:db8:ff::1");
    // Destinations inside a pool (this pool's other blocks, another pool) are never NATed.
    CHECK(expectSeen(pod, "10.65.200.9", "10.65.0.5") == "10.65.0.5");
    CHECK(expectSeen(pod, "10.70.0.9", "10.65.0.5") == "10.65.0.5");
    CHECK(expectSeen(pod, "fd00:65:0:c8::9", "fd00:65::5") == "fd00:65::5");
    const std::string nat = node.node.execOrThrow("iptables-save -t nat");
    CHECK(nat.find("-A POSTROUTING -m comment --comment") != std::string::npos);
    CHECK(nat.find("tartan-masq-ipam-pools src") != std::string::npos);
    CHECK(nat.find("-j MASQUERADE --random-fully") != std::string::npos);  // iptables 1.8, Linux >= 3.14
    // A hand-flushed NAT chain is put back (nf_tables announces the change).
    node.node.execOrThrow("iptables -t nat -F tartan-nat-outgoing");
    CHECK(expectSeen(pod, "198.18.0.2", "198.18.0.1") == "198.18.0.1");
    CHECK(tt::eventually(
        [&] {
          return node.agentLog().find("repaired drift: IPv4 nat chain tartan-nat-outgoing") !=
                 std::string::npos;
        },
        5s));
  }

  SECTION("a disabled pool still masquerades: its pods keep reaching the outside") {
    // From a pool that does not masquerade to a disabled one that does, so the change is seen.
    node.apply("pool-off", pool("v4", "10.65.0.0/16", false));
    REQUIRE(expectSeen(pod, "198.18.0.2", "10.65.0.5") == "10.65.0.5");
    node.apply("pool-disabled", pool("v4", "10.65.0.0/16", true) + "  disabled: true\n");
    REQUIRE(node.ctl("get ippool v4 -o yaml").output.find("disabled: true") != std::string::npos);
    CHECK(expectSeen(pod, "198.18.0.2", "198.18.0.1") == "198.18.0.1");
    CHECK(expectSeen(pod, "10.70.0.9", "10.65.0.5") == "10.65.0.5");
  }

  SECTION("natPortRange: masqueraded connections take their source port from the range") {
    node.apply(
        "config",
        std::string("apiVersion: tartan.dev/v1\nkind: AgentConfiguration\nmetadata:\n  name: default\n") +
            "spec:\n  interfacePrefix: " + tt::AgentNode::kInterfacePrefix +
            "\n  natPortRange: 40000:40009\n");
    REQUIRE(tt::eventually(
        [&] {
          return node.node.execOrThrow("iptables-save -t nat").find("--to-ports 40000-40009") !=
                 std::string::npos;
        },
        20s));
    for (int i = 0; i < 5; ++i) {
      int port = 0;
      CHECK(seenFrom(pod, "198.18.0.2", &port) == "198.18.0.1");
      CHECK((port >= 40000 && port <= 40009));
    }
  }

  SECTION("natOutgoingAddress: IPv4 leaves with that address; IPv6 still masquerades") {
    node.apply("config", agentConfiguration("198.18.0.100"));
    CHECK(expectSeen(pod, "198.18.0.2", "198.18.0.100") == "198.18.0.100");
    CHECK(expectSeen(pod, "2001:db8:ff::2", "2001:db8:ff::1") == "2001:db8:ff::1");
    CHECK(expectSeen(pod, "10.70.0.9", "10.65.0.5") == "10.65.0.5");
  }

  SECTION("natOutgoing false: the outside sees the pod's own address; true again: the node's") {
    node.apply("pools-off", pool("v4", "10.65.0.0/16", false));
    CHECK(expectSeen(pod, "198.18.0.2", "10.65.0.5") == "10.65.0.5");
    CHECK(expectSeen(pod, "2001:db8:ff::2", "2001:db8:ff::1") ==
          "2001:db8:ff::1");  // the IPv6 pool still does
    CHECK(node.node.execOrThrow("iptables-save -t nat").find("tartan-nat-outgoing") == std::string::npos);
    node.apply("pools-on", pool("v4", "10.65.0.0/16", true));
    CHECK(expectSeen(pod, "198.18.0.2", "198.18.0.1") == "198.18.0.1");
  }

  SECTION("deleting the pools removes the rules, the jump and the sets") {
    REQUIRE(expectSeen(pod, "198.18.0.2", "198.18.0.1") == "198.18.0.1");
    for (const char* name : {"v4", "other", "v6"}) {
      auto deleted = node.ctl(std::string("delete ippool ") + name);
      REQUIRE(deleted.exitCode == 0);
    }
    auto gone = [&] {
      const std::string all =
          node.node.execOrThrow("iptables-save -t nat; ip6tables-save -t nat; ipset list -n");
      return all.find("tartan") == std::string::npos;
    };
    CHECK(tt::eventually(gone, 20s));
    CHECK(
        node.node.execOrThrow("iptables-save -t nat; ip6tables-save -t nat; ipset list -n").find("tartan") ==
        std::string::npos);
    CHECK(expectSeen(pod, "198.18.0.2", "10.65.0.5") == "10.65.0.5");
  }
  CHECK(agent.stop() == 0);
}
