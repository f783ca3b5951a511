// test/kernel/host_endpoint/host_node.hpp — a node whose own interfaces are host endpoints.
//
// What: three namespaces in a line, `peer — node — far`: the node namespace runs the real
// tartan-agent binary (via `ip netns exec`) against a file datastore written with tartanctl;
// its eth0 (10.77.0.1, fd77::1) faces the peer (10.77.0.2, fd77::2) and its eth1 (10.78.0.1,
// fd78::1) faces far (10.78.0.2, fd78::2); the node forwards between them in both families, so
// peer <-> far traffic is forwarded traffic through two host interfaces. IPv6 forwarding is the
// set-up's, not the agent's: the agent turns it on only for IPv6 workloads, and there are none.
// Servers are plain TCP/UDP echo servers bound in any of the three (in both families if bound to
// "::"). The TCP echo server and client come from test/kernel/dataplane_iptables/traffic.hpp, the
// namespaces from test/support; only what host endpoints add (UDP, the agent on a node without
// pods, conntrack reads) is here.
// Owns: its namespaces (deleted with it, and every interface in them), its temp dir, the agent
// child process (stopped by PID in the destructor, also after a failed REQUIRE).
// Threading: one test thread drives it; probes enter a namespace on the calling thread only for
// the duration of the probe (EnterNamespace).
// Failure: set-up errors throw std::runtime_error with the command's output.
#pragma once

#include "kernel/dataplane_iptables/traffic.hpp"
#include "support/agent_process.hpp"
#include "support/eventually.hpp"
#include "support/netns.hpp"

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace tartan::test::hep {

inline constexpr const char* kNodeEth0 = "10.77.0.1";
inline constexpr const char* kPeer = "10.77.0.2";
inline constexpr const char* kNodeEth1 = "10.78.0.1";
inline constexpr const char* kFar = "10.78.0.2";
inline constexpr const char* kNodeEth0V6 = "fd77::1";
inline constexpr const char* kPeerV6 = "fd77::2";
inline constexpr const char* kNodeEth1V6 = "fd78::1";
inline constexpr const char* kFarV6 = "fd78::2";

enum class IpFamily { kV4, kV6 };

// A UDP server that answers every datagram with the same bytes.
class UdpEchoServer {
 public:
  UdpEchoServer(const NetNamespace& ns, const std::string& ip, int port);
  ~UdpEchoServer();
  UdpEchoServer(const UdpEchoServer&) = delete;
  UdpEchoServer& operator=(const UdpEchoServer&) = delete;

 private:
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One datagram from `ns` (a fresh socket, so a fresh conntrack tuple) and its echo within the timeout.
bool udpEchoes(const NetNamespace& ns, const std::string& ip, int port, int timeoutMs = 1000);

class HostNode {
 public:
  HostNode();
  ~HostNode();
  HostNode(const HostNode&) = delete;
  HostNode& operator=(const HostNode&) = delete;

  const NetNamespace& node() const { return node_; }
  const NetNamespace& peer() const { return peer_; }
  const NetNamespace& far() const { return far_; }

  // tartanctl apply -f / delete -f of `yaml`, saved as <dir>/<name>.yaml; throws on failure.
  void apply(const std::string& name, const std::string& yaml) const;
  void remove(const std::string& name) const;

  // Starts tartan-agent in the node namespace and waits for /readiness (throws after 90 s);
  // `environment` ("NAME=value") is added to the agent's.
  void startAgent(std::vector<std::string> environment = {});
  std::string agentLog() const;

  // Conntrack entries of `family` in the node namespace whose original destination port is `port`.
  int conntrackEntries(const std::string& protocol, int port, IpFamily family = IpFamily::kV4) const;

 private:
  NetNamespace node_{"hep-node"};
  NetNamespace peer_{"hep-peer"};
  NetNamespace far_{"hep-far"};
  std::string dir_;
  std::unique_ptr<AgentProcess> agent_;
};

// Everything the agent needs to know of the node's host endpoints: `HostEndpoint` YAML.
std::string hostEndpointYaml(const std::string& name, const std::string& labels,
                             const std::string& interfaceName, const std::string& expectedIPs = "");

}  // namespace tartan::test::hep
