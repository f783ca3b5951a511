// test/support/agent_node.hpp — a node for the real agent in a kernel test: a node namespace with
// an uplink, pod namespaces joined by veths named as Calico names them, and a file datastore that
// tartanctl writes. Names of namespaces and folders are unique per run.
//
// Header-only: it needs the calc graph's veth naming, which the support library does not link.
// The workload interface prefix is set in the store (AgentConfiguration "default"), so a test
// does not depend on the agent's default.
#pragma once

#include "support/agent_process.hpp"
#include "support/netns.hpp"
#include "tartan/calc/calc_graph.hpp"

#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

namespace tartan::test {

struct AgentPod {
  std::string ns, name, ip, labels;
  std::unique_ptr<NetNamespace> netns;
};

class AgentNode {
 public:
  static constexpr const char* kInterfacePrefix = "tart";

  // `tag` names the node's namespaces ("ds" gives "ds-node" and "ds-pod") and its folder.
  explicit AgentNode(const std::string& tag)
      : tag_(tag),
        node(tag + "-node"),
        dir(std::filesystem::temp_directory_path() / ("tartan-" + tag + "-" + uniqueSuffix())),
        store(dir / "datastore") {
    std::filesystem::create_directories(store);
    node.execOrThrow(
        "ip link add uplink type veth peer name uplink-peer && ip link set uplink-peer up && "
        "ip link set uplink up && ip route add default dev uplink");
    apply("config",
          std::string("apiVersion: tartan.dev/v1\nkind: AgentConfiguration\nmetadata:\n  name: default\n"
                      "spec:\n  interfacePrefix: ") +
              kInterfacePrefix + "\n");
  }
  ~AgentNode() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  AgentNode(const AgentNode&) = delete;
  AgentNode& operator=(const AgentNode&) = delete;

  // A pod namespace on a veth; the agent sets the host side's sysctls and the /32 route.
  AgentPod& pod(const std::string& ns, const std::string& name, const std::string& ip,
                const std::string& labels) {
    AgentPod p{ns, name, ip, labels, std::make_unique<NetNamespace>(tag_ + "-pod")};
    const std::string veth = calc::CalcGraph::vethNameForWorkload(kInterfacePrefix, ns, name);
    node.execOrThrow("ip link add " + veth + " type veth peer name eth0 netns " + p.netns->name() +
                     " && ip link set " + veth + " up");
    p.netns->execOrThrow("ip link set eth0 up && ip addr add " + ip +
                         "/32 dev eth0 && ip route add 169.254.1.1 dev eth0 scope link && "
                         "ip route add default via 169.254.1.1 dev eth0");
    pods.push_back(std::move(p));
    return pods.back();
  }

  // tartanctl against the node's store; stdout and stderr together.
  CommandResult ctl(const std::string& args) const {
    return shell(builtBinary("src/cli/tartanctl") + " --datastore file:" + store.string() + " " + args);
  }
  void apply(const std::string& name, const std::string& yaml) const {
    const auto file = dir / (name + ".yaml");
    std::ofstream(file) << yaml;
    auto applied = ctl("apply -f " + file.string());
    if (applied.exitCode != 0) throw std::runtime_error("tartanctl apply " + name + ": " + applied.output);
  }
  // The pods and their namespaces (labelled team: <namespace>), as Kubernetes resources.
  // The pods' Namespaces (labelled team: <name>) and Pods, as one YAML stream.
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
  void applyPods() const { apply("pods", podsYaml()); }

  AgentProcess::Options agentOptions() const {
    AgentProcess::Options o;
    o.datastore = "file:" + store.string();
    o.log = (dir / "agent.log").string();
    return o;
  }
  std::string agentLog() const {
    std::ifstream in(dir / "agent.log");
    return {std::istreambuf_iterator<char>(in), {}};
  }

 private:
  std::string tag_;

 public:
  NetNamespace node;
  const std::filesystem::path dir;
  const std::filesystem::path store;  // the file datastore's folder
  std::deque<AgentPod> pods;          // references stay valid as pods are added
};

}  // namespace tartan::test
