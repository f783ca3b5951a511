// Drift made by hand is repaired within seconds, not at the next periodic refresh: the real
// tartan-agent in a node namespace (nf_tables backend, iptablesRefreshInterval 90 s so the periodic
// read-back cannot be what repairs), a pod whose traffic is denied, and for each kind of drift
// someone might make — our chain flushed, a foreign member added to one of our IP sets, our jump
// removed from FORWARD, a foreign ACCEPT inserted above our jump — the denied flow must be denied
// again within 2 s and the repair counted in tartan_agent_dataplane_repairs_total. The time each
// repair took is printed (never asserted beyond the 2 s the specification demands).
#include "kernel/dataplane_iptables/traffic.hpp"
#include "support/agent_process.hpp"
#include "support/eventually.hpp"
#include "support/netns.hpp"
#include "tartan/calc/calc_graph.hpp"
#include "tartan/dataplane/iptables/chain.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

namespace tt = tartan::test;
namespace fs = std::filesystem;
namespace dpi = tartan::dataplane::iptables;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Pod {
  std::string ns, name, ip, labels;
  std::unique_ptr<tt::NetNamespace> netns;
};

// A node namespace with pods joined by veths named as Calico names them, and a file datastore.
struct Node {
  tt::NetNamespace node{"drift-node"};
  std::string dir;
  std::deque<Pod> pods;

  Node() {
    dir = (fs::temp_directory_path() / ("tartan-drift-test-" + tt::uniqueSuffix())).string();
    fs::create_directories(dir + "/datastore");
    node.execOrThrow(
        "ip link add uplink type veth peer name uplink-peer && ip link set uplink-peer up && "
        "ip link set uplink up && ip route add default dev uplink");
  }
  ~Node() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  Pod& pod(const std::string& ns, const std::string& name, const std::string& ip, const std::string& labels) {
    Pod p{ns, name, ip, labels, std::make_unique<tt::NetNamespace>("drift-pod")};
    node.execOrThrow("ip link add " + veth(ns, name) + " type veth peer name eth0 netns " + p.netns->name() +
                     " && ip link set " + veth(ns, name) + " up");
    p.netns->execOrThrow("ip link set eth0 up && ip addr add " + ip +
                         "/32 dev eth0 && ip route add 169.254.1.1 dev eth0 scope link && "
                         "ip route add default via 169.254.1.1 dev eth0");
    pods.push_back(std::move(p));
    return pods.back();
  }
  static std::string veth(const std::string& ns, const std::string& name) {
    return tartan::calc::CalcGraph::vethNameForWorkload(tartan::calc::kDefaultInterfacePrefix, ns, name);
  }

  std::string datastore() const { return "file:" + dir + "/datastore"; }
  tt::AgentProcess::Options agentOptions() const {
    tt::AgentProcess::Options o;
    o.datastore = datastore();
    o.log = dir + "/agent.log";
    return o;
  }
  void apply(const std::string& name, const std::string& yaml) const {
    const std::string file = dir + "/" + name + ".yaml";
    std::ofstream(file) << yaml;
    tt::shellOrThrow(tt::builtBinary("src/cli/tartanctl") + " --datastore " + datastore() + " apply -f " +
                     file);
  }
  std::string podsYaml() const {
    std::string out;
    for (const char* n : {"front", "shop"})
      out += std::string("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ") + n +
             "\n  labels: {team: " + n + "}\n---\n";
    for (const auto& p : pods)
      out += "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + p.name + "\n  namespace: " + p.ns +
             "\n  labels: " + p.labels +
             "\nspec:\n  nodeName: node-1\n  containers:\n  - name: c\nstatus:\n  phase: Running\n  podIP: " +
             p.ip + "\n  podIPs:\n  - ip: " + p.ip + "\n---\n";
    return out;
  }
  std::string agentLog() const {
    std::ifstream in(dir + "/agent.log");
    return {std::istreambuf_iterator<char>(in), {}};
  }
};

const char* kConfigAndPolicies = R"(apiVersion: tartan.dev/v1
kind: AgentConfiguration
metadata:
  name: default
spec:
  iptablesBackend: NFT
  iptablesRefreshInterval: 90s
---
apiVersion: tartan.dev/v1
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

// tartan_agent_dataplane_repairs_total{kind="<kind>"}, or -1 if the agent did not answer.
long repairs(const tt::AgentProcess& agent, const std::string& kind) {
  std::string metrics;
  if (agent.httpGet("/metrics", &metrics) != 200) return -1;
  const std::string key = "tartan_agent_dataplane_repairs_total{kind=\"" + kind + "\"} ";
  const auto at = metrics.find(key);
  return at == std::string::npos ? -1 : std::atol(metrics.c_str() + at + key.size());
}

// The rule lines of one chain in the nft backend's filter table ("-A CHAIN ..." stripped).
std::vector<std::string> rules(const tt::NetNamespace& ns, const std::string& chain) {
  std::vector<std::string> out;
  std::istringstream lines(ns.exec("iptables-nft-save -t filter").output);
  const std::string prefix = "-A " + chain + " ";
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(prefix, 0) == 0) out.push_back(line.substr(prefix.size()));
  return out;
}

}  // namespace

TEST_CASE("drift made by hand is repaired within 2 s on the nf_tables backend, and counted by kind",
          "[kernel][drift]") {
  // Without root, haveNetAdmin() marks the run skipped: CTest reports SKIPPED, never a pass.
  if (!tt::haveNetAdmin()) {
    WARN("SKIPPED: kernel_agent_drift needs root and network namespaces; nothing was tested");
    return;
  }
  Node n;
  // The node runs iptables-nft: that is the backend whose changes nf_tables announces.
  REQUIRE(n.node.exec("iptables-nft -V").output.find("nf_tables") != std::string::npos);
  Pod& client = n.pod("front", "client", "10.67.0.2", "{role: client}");
  Pod& trusted = n.pod("front", "trusted", "10.67.0.3", "{role: trusted}");
  Pod& server = n.pod("shop", "server", "10.67.0.4", "{app: server}");
  tt::EchoServer echo(*server.netns, "0.0.0.0", 8080);
  n.apply("pods", n.podsYaml());
  n.apply("policy", kConfigAndPolicies);

  tt::AgentProcess agent(n.node, n.agentOptions());
  struct DumpLog {
    const Node& n;
    ~DumpLog() {
      if (std::uncaught_exceptions() > 0) std::cerr << "---- agent log ----\n" << n.agentLog() << "----\n";
    }
  } dumpLog{n};
  REQUIRE(agent.waitReady(90s));

  // A short connect timeout: inside one node a permitted connect completes in well under a
  // millisecond, so a connect that has not completed in 200 ms was dropped.
  auto denied = [&] {
    const int fd = tt::connectFrom(*client.netns, server.ip, 8080, 200);
    if (fd >= 0) ::close(fd);
    return fd < 0;
  };
  REQUIRE(tt::eventually([&] { return tt::canConnect(*trusted.netns, server.ip, 8080); }));
  REQUIRE(tt::eventually(denied));
  REQUIRE(repairs(agent, "chain") == 0);
  REQUIRE(repairs(agent, "jump") == 0);
  REQUIRE(repairs(agent, "set") == 0);

  // Makes `drift` by hand, then measures until the flow is denied again: the time at which the
  // connect that was refused started. Whether the drift opened the flow before the repair beat us
  // to it is printed; the repair counter proves the agent saw and put right what was done.
  struct Outcome {
    bool sawOpen = false;
    std::chrono::milliseconds repairedAfter{-1};
  };
  auto measure = [&](const std::string& kind, const std::string& drift) {
    const long before = repairs(agent, kind);
    n.node.execOrThrow(drift);
    const auto made = Clock::now();
    Outcome o;
    while (Clock::now() - made < 2s) {
      const auto attempt = Clock::now();
      if (denied()) {
        o.repairedAfter = std::chrono::duration_cast<std::chrono::milliseconds>(attempt - made);
        break;
      }
      o.sawOpen = true;
      std::this_thread::sleep_for(5ms);
    }
    INFO(kind << " drift: " << drift);
    CHECK(o.repairedAfter >= 0ms);
    CHECK(tt::eventually([&] { return repairs(agent, kind) > before; }, 2s, 20ms));
    std::cout << "drift repair [" << kind << "] " << drift << ": flow "
              << (o.sawOpen ? "was open, " : "never seen open, ") << "denied again after "
              << o.repairedAfter.count() << " ms; repairs{kind=\"" << kind << "\"} " << before << " -> "
              << repairs(agent, kind) << "\n";
    return o;
  };

  SECTION("each kind of drift, one after the other") {
    // 1. Our chain flushed: the server's to-workload chain holds its policy.
    const std::string toServer = dpi::names::toWorkloadChain(Node::veth("shop", "server"));
    REQUIRE_FALSE(rules(n.node, toServer).empty());
    auto flushed = measure("chain", "iptables-nft -t filter -F " + toServer);
    CHECK_FALSE(rules(n.node, toServer).empty());

    // 2. A foreign member in the set the allow rule matches sources against (the trusted pod's).
    std::string setName;
    for (std::istringstream names(n.node.exec("ipset list -n").output); std::getline(names, setName);)
      if (setName.rfind("tartan-", 0) == 0 &&
          n.node.exec("ipset test " + setName + " " + trusted.ip + " 2>/dev/null").exitCode == 0)
        break;
    REQUIRE(setName.rfind("tartan-", 0) == 0);
    auto member = measure("set", "ipset add " + setName + " " + client.ip);
    CHECK(n.node.exec("ipset test " + setName + " " + client.ip + " 2>/dev/null").exitCode != 0);

    // 3. Our jump removed from FORWARD.
    auto forward = rules(n.node, "FORWARD");
    REQUIRE_FALSE(forward.empty());
    REQUIRE(forward.front().find("-j tartan-FORWARD") != std::string::npos);
    auto removed = measure("jump", "iptables-nft -t filter -D FORWARD " + forward.front());
    CHECK(rules(n.node, "FORWARD").front() == forward.front());

    // 4. A foreign ACCEPT inserted above our jump: ours goes back on top; the foreign rule stays,
    // below it (never ours to delete).
    auto above = measure("jump", "iptables-nft -t filter -I FORWARD 1 -j ACCEPT");
    forward = rules(n.node, "FORWARD");
    REQUIRE(forward.size() >= 2);
    CHECK(forward[0].find("-j tartan-FORWARD") != std::string::npos);
    CHECK(forward[1] == "-j ACCEPT");

    // The trusted pod was never cut off, and the agent logged each repair by name.
    {
      std::istringstream lines(n.agentLog());
      for (std::string line; std::getline(lines, line);)
        if (line.find("repaired drift") != std::string::npos || line.find("nftables") != std::string::npos)
          std::cout << "agent: " << line << "\n";
    }
    CHECK(tt::canConnect(*trusted.netns, server.ip, 8080));
    const std::string log = n.agentLog();
    CHECK(log.find("repaired drift: IPv4 filter chain " + toServer) != std::string::npos);
    CHECK(log.find("repaired drift: IP set " + setName) != std::string::npos);
    CHECK(log.find("repaired drift: IPv4 filter FORWARD jump to tartan-FORWARD missing") !=
          std::string::npos);
    CHECK(log.find("repaired drift: IPv4 filter FORWARD a rule above the jump to tartan-FORWARD") !=
          std::string::npos);
    // None of it waited for the periodic read-back (90 s): only the start's read-back and the
    // notification-driven ones ran.
    std::string metrics;
    REQUIRE(agent.httpGet("/metrics", &metrics) == 200);
    CHECK(metrics.find("tartan_agent_nftables_rechecks_total 0\n") == std::string::npos);
    std::cout << "drift repair summary (ms): chain " << flushed.repairedAfter.count() << ", set "
              << member.repairedAfter.count() << ", jump removed " << removed.repairedAfter.count()
              << ", rule above jump " << above.repairedAfter.count() << "\n";
  }
  CHECK(agent.stop(SIGTERM) == 0);
}
