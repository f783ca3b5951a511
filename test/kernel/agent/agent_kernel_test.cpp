// tartan-agent against the real kernel: a node namespace running the agent binary (via
// `ip netns exec`), pod namespaces joined by veths named as Calico names them, resources written
// with tartanctl. Every expectation is polled with a deadline, never slept for.
#include "kernel/dataplane_iptables/traffic.hpp"
#include "support/agent_process.hpp"
#include "support/eventually.hpp"
#include "support/netns.hpp"
#include "tartan/calc/calc_graph.hpp"

#include <tartan/common/http_get.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

namespace tt = tartan::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tartan::test::eventually;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct Pod {
  std::string ns, name, ip, labels;
  std::unique_ptr<tt::NetNamespace> netns;
};

struct Node {
  tt::NetNamespace node{"agent-node"};
  std::string dir;
  std::deque<Pod> pods;  // references stay valid as pods are added

  Node() {
    dir = (fs::temp_directory_path() / ("tartan-agent-test-" + tt::uniqueSuffix())).string();
    fs::create_directories(dir + "/datastore");
    // An uplink carries the node's default route, so proxy ARP answers for 169.254.1.1. IP
    // forwarding is left off: turning it on is the agent's job (ipForwarding: Enabled).
    node.execOrThrow(
        "sysctl -qw net.ipv4.ip_forward=0 && ip link add uplink type veth peer name uplink-peer && "
        "ip link set uplink-peer up && ip link set uplink up && ip route add default dev uplink");
  }
  ~Node() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  Pod& pod(const std::string& ns, const std::string& name, const std::string& ip, const std::string& labels) {
    Pod p{ns, name, ip, labels, std::make_unique<tt::NetNamespace>("agent-pod")};
    // The agent sets the veth's sysctls and the /32 route; only the pod side is set up here.
    const std::string veth =
        tartan::calc::CalcGraph::vethNameForWorkload(tartan::calc::kDefaultInterfacePrefix, ns, name);
    node.execOrThrow("ip link add " + veth + " type veth peer name eth0 netns " + p.netns->name() +
                     " && ip link set " + veth + " up");
    p.netns->execOrThrow(
        "ip link set eth0 up && ip addr add " + ip +
        "/32 dev eth0 && "
        "ip route add 169.254.1.1 dev eth0 scope link && ip route add default via 169.254.1.1 dev eth0");
    pods.push_back(std::move(p));
    return pods.back();
  }

  std::string datastore() const { return "file:" + dir + "/datastore"; }
  tt::AgentProcess::Options agentOptions() const { return {datastore(), dir + "/agent.log"}; }

  void apply(const std::string& name, const std::string& yaml) const {
    const std::string file = dir + "/" + name + ".yaml";
    std::ofstream(file) << yaml;
    tt::shellOrThrow(tt::builtBinary("src/cli/tartanctl") + " --datastore " + datastore() + " apply -f " +
                     file);
  }

  std::string podsYaml() const {
    std::string out;
    std::set<std::string> namespaces;
    for (const auto& p : pods) namespaces.insert(p.ns);
    for (const auto& n : namespaces)
      out +=
          "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + n + "\n  labels: {team: " + n + "}\n---\n";
    for (const auto& p : pods)
      out += "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + p.name + "\n  namespace: " + p.ns +
             "\n  labels: " + p.labels +
             "\nspec:\n  nodeName: node-1\n  containers:\n  - name: c\nstatus:\n  phase: Running\n  podIP: " +
             p.ip + "\n  podIPs:\n  - ip: " + p.ip + "\n---\n";
    return out;
  }

  std::string agentLog() const { return readFile(dir + "/agent.log"); }
};

const char* kPolicies = R"(apiVersion: tartan.dev/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: shop
spec:
  selector: all()
  types: [Ingress]
---
apiVersion: tartan.dev/v1
kind: NetworkPolicy
metadata:
  name: allow-trusted
  namespace: shop
spec:
  order: 100
  selector: app == "server"
  ingress:
    - action: Allow
      protocol: TCP
      source:
        namespaceSelector: team == "front"
        selector: role == "trusted"
      destination:
        ports: [8080]
)";

}  // namespace

TEST_CASE(
    "the agent programs pods from the datastore, enforces policy, and restarts without cutting traffic") {
  if (!tt::haveNetAdmin()) {
    WARN("kernel_agent needs root and network namespaces: SKIPPED, nothing was tested");
    SUCCEED("skipped: not root");
    return;
  }
  Node n;
  Pod& trusted = n.pod("front", "trusted", "10.66.0.2", "{role: trusted}");
  Pod& other = n.pod("front", "other", "10.66.0.3", "{role: other}");
  Pod& server = n.pod("shop", "server", "10.66.0.4", "{app: server}");
  tt::EchoServer echo(*server.netns, "0.0.0.0", 8080);
  n.apply("pods", n.podsYaml());

  auto agent = std::make_unique<tt::AgentProcess>(n.node, n.agentOptions());
  // On a failed REQUIRE, the agent's own account of what happened.
  struct DumpLog {
    const Node& n;
    ~DumpLog() {
      if (std::uncaught_exceptions() > 0) std::cerr << "---- agent log ----\n" << n.agentLog() << "----\n";
    }
  } dumpLog{n};

  // Readiness flips to 200 once the first full sync is programmed; liveness is up meanwhile.
  REQUIRE(agent->waitReady(90s));
  CHECK(agent->httpGet("/liveness") == 200);
  CHECK(n.node.exec("sysctl -n net.ipv4.ip_forward").output == "1\n");
  std::string metrics;
  CHECK(agent->httpGet("/metrics", &metrics) == 200);
  CHECK(metrics.find("tartan_agent_in_sync 1") != std::string::npos);
  CHECK(metrics.find("tartan_agent_local_endpoints 3") != std::string::npos);

  // The agent's routes and proxy ARP make the pods reach each other; no policy: open.
  REQUIRE(eventually([&] { return tt::canConnect(*trusted.netns, server.ip, 8080); }));
  CHECK(eventually([&] { return tt::canConnect(*other.netns, server.ip, 8080); }));
  CHECK(n.node.exec("ip route show proto 116").output.find(server.ip) != std::string::npos);
  const std::string veth =
      tartan::calc::CalcGraph::vethNameForWorkload(tartan::calc::kDefaultInterfacePrefix, "shop", "server");
  CHECK(n.node.exec("sysctl -n net.ipv4.conf." + veth + ".proxy_arp").output == "1\n");

  // Connections opened before the policy: conntrack keeps them, as Calico does.
  const int fromTrusted = tt::connectFrom(*trusted.netns, server.ip, 8080);
  const int fromOther = tt::connectFrom(*other.netns, server.ip, 8080);
  REQUIRE(fromTrusted >= 0);
  REQUIRE(fromOther >= 0);

  n.apply("policy", kPolicies);
  CHECK(eventually([&] { return !tt::canConnect(*other.netns, server.ip, 8080); }));
  CHECK(tt::canConnect(*trusted.netns, server.ip, 8080));
  CHECK(tt::echoes(fromOther));
  CHECK(tt::echoes(fromTrusted));

  // SIGTERM: a clean exit that leaves the rules in place.
  CHECK(agent->stop(SIGTERM) == 0);
  const std::string saved = n.node.exec("iptables-save 2>/dev/null; iptables-nft-save 2>/dev/null").output;
  CHECK(saved.find("tartan-") != std::string::npos);
  CHECK_FALSE(tt::canConnect(*other.netns, server.ip, 8080));
  CHECK(tt::canConnect(*trusted.netns, server.ip, 8080));

  // A restart takes over in place: established connections live on, verdicts stay.
  agent = std::make_unique<tt::AgentProcess>(n.node, n.agentOptions());
  CHECK(agent->waitReady(90s));
  CHECK(tt::echoes(fromTrusted));
  CHECK(tt::echoes(fromOther));
  CHECK_FALSE(tt::canConnect(*other.netns, server.ip, 8080));
  CHECK(tt::canConnect(*trusted.netns, server.ip, 8080));
  ::close(fromTrusted);
  ::close(fromOther);
  CHECK(agent->stop(SIGTERM) == 0);
}

TEST_CASE(
    "AgentConfiguration reaches the driver and the route sync: drift is repaired on their refresh "
    "intervals") {
  if (!tt::haveNetAdmin()) {
    WARN("kernel_agent needs root and network namespaces: SKIPPED, nothing was tested");
    SUCCEED("skipped: not root");
    return;
  }
  Node n;
  Pod& client = n.pod("front", "client", "10.66.0.2", "{role: client}");
  Pod& server = n.pod("shop", "server", "10.66.0.4", "{app: server}");
  tt::EchoServer echo(*server.netns, "0.0.0.0", 8080);
  n.apply("config", R"(apiVersion: tartan.dev/v1
kind: AgentConfiguration
metadata:
  name: default
spec:
  iptablesBackend: NFT
  iptablesRefreshInterval: 2s
  routeRefreshInterval: 2s
)");
  n.apply("pods", n.podsYaml());
  tt::AgentProcess agent(n.node, n.agentOptions());
  struct DumpLog {
    const Node& n;
    ~DumpLog() {
      if (std::uncaught_exceptions() > 0) std::cerr << "---- agent log ----\n" << n.agentLog() << "----\n";
    }
  } dumpLog{n};
  REQUIRE(agent.waitReady(90s));
  REQUIRE(eventually([&] { return tt::canConnect(*client.netns, server.ip, 8080); }));

  // The backend asked for: nft holds our hook in FORWARD.
  auto forwardHook = [&] {
    const std::string saved = n.node.exec("iptables-nft-save -t filter").output;
    std::istringstream lines(saved);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("-A FORWARD ", 0) == 0 && line.find("tartan-") != std::string::npos) return line;
    }
    return std::string();
  };
  const std::string hook = forwardHook();
  REQUIRE_FALSE(hook.empty());

  // Someone removes the hook and a workload route behind the agent's back.
  n.node.execOrThrow("iptables-nft -t filter -D " + hook.substr(3));
  n.node.execOrThrow("ip route del " + server.ip + "/32");
  CHECK(forwardHook().empty());
  // The periodic read-back (iptablesRefreshInterval) and route sync (routeRefreshInterval) put
  // both back.
  CHECK(eventually([&] { return forwardHook() == hook; }, 20s));
  CHECK(eventually(
      [&] { return n.node.exec("ip route show proto 116").output.find(server.ip) != std::string::npos; },
      20s));
  CHECK(eventually([&] { return tt::canConnect(*client.netns, server.ip, 8080); }));
  std::string metrics;
  CHECK(agent.httpGet("/metrics", &metrics) == 200);
  CHECK(metrics.find("tartan_agent_resyncs_total 0\n") == std::string::npos);
  CHECK(agent.stop(SIGTERM) == 0);
}
