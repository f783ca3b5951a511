// test/kernel/cni/cluster.hpp — a node for tartan-cni in a kernel test, run as a runtime runs it.
//
// The built binary, CNI_* in its environment and the network configuration on stdin, inside a
// node namespace that stands in for the host (`ip netns exec <node> tartan-cni`), with CNI_NETNS
// a pod namespace of the test's own and a file datastore in a temporary folder holding the pools.
// The node's IPAM lock file is in that folder too, never the host's /var/run.
#pragma once

#include <tartan/cni/cni.hpp>
#include <tartan/datastore/file_datastore.hpp>
#include <tartan/ipam/ipam.hpp>
#include <tartan/model/model.hpp>

#include "support/netns.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cni_kernel {

using nlohmann::json;
using tartan::test::NetNamespace;
using tartan::test::shell;
namespace datastore = tartan::datastore;
namespace fs = std::filesystem;

#define REQUIRE_NET_ADMIN()                                                                           \
  do {                                                                                                \
    if (!tartan::test::haveNetAdmin()) {                                                              \
      WARN(                                                                                           \
          "SKIPPED: the CNI kernel tests need root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to create network " \
          "namespaces; nothing was tested against the kernel");                                       \
      return;                                                                                         \
    }                                                                                                 \
  } while (false)

inline std::string plugin() {
  const char* dir = std::getenv("TARTAN_BINARY_DIR");
  return std::string(dir != nullptr ? dir : ".") + "/src/cni/tartan-cni";
}

// A temporary folder, removed with everything in it. On tmpfs when there is one: the file store
// fsyncs every document, and a hundred plugins at once should wait for the plugin, not the disk.
struct TempDir {
  fs::path path;
  TempDir() {
    const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string tmpl = (base / "tartan-cni-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

struct Outcome {
  int exitCode = -1;
  std::string stdoutText;
  std::string stderrText;
  json output() const { return stdoutText.empty() ? json() : json::parse(stdoutText, nullptr, false); }
};

inline std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "exit " << o.exitCode << "\nstdout: " << o.stdoutText << "\nstderr: " << o.stderrText;
}

inline std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The node, its store and pools; pods are namespaces the test passes as CNI_NETNS.
struct Cluster {
  NetNamespace node{"cni-node"};
  TempDir dir;
  std::string storeDir = (dir.path / "store").string();
  std::unique_ptr<datastore::Datastore> store;
  int runs = 0;
  std::string lockFile() const { return (dir.path / "ipam.lock").string(); }

  explicit Cluster(const std::string& pools) {
    node.execOrThrow("sysctl -qw net.ipv4.ip_forward=1 && sysctl -qw net.ipv6.conf.all.forwarding=1");
    // proxy_arp answers for 169.254.1.1 only when the node routes it out of another interface,
    // as a real node's default route does: an uplink that goes nowhere carries it.
    node.execOrThrow(
        "ip link add uplink type veth peer name uplink-peer && ip link set uplink-peer up && "
        "ip link set uplink up && ip route add default dev uplink && "
        "ip -6 route add default dev uplink");
    store = datastore::openFileDatastore(storeDir).value();
    apply(pools);
  }

  void apply(const std::string& yaml) {
    auto decoded = tartan::model::decode(yaml, "test");
    INFO(yaml);
    REQUIRE(decoded.ok());
    for (const auto& resource : decoded.resources) {
      const auto& meta = tartan::model::metadata(resource);
      datastore::Key key{std::string(tartan::model::kindName(tartan::model::kindOf(resource))),
                         meta.namespaceName, meta.name};
      REQUIRE(store->apply(key, tartan::model::encodeYaml(resource)).has_value());
    }
  }

  std::string conf(const std::string& extraIpam = "", const std::string& extra = "") const {
    return R"({"cniVersion":"1.0.0","name":"k8s-pod-network","type":"tartan-cni","nodename":"node-a",)"
           R"("datastore":"file:)" +
           storeDir + R"(","ipam_lock_file":")" + lockFile() + R"(",)" + extra +
           R"("ipam":{"type":"calico-ipam")" + extraIpam + "}}";
  }

  // Runs the plugin in the node namespace as a runtime would.
  struct Call {
    std::string containerID;
    std::string netns;
    std::string pod;
    std::string cniArgs = {};  // in place of the kubelet's CNI_ARGS for `pod`
  };
  // CNI_PATH of the calls: where a runtime finds the plugins by their `type`.
  std::string cniPath = "/usr/lib/cni";

  // Runs the plugin once per call, all at once, in the node namespace as a runtime would.
  std::vector<Outcome> runAll(const std::string& command, const std::vector<Call>& calls,
                              const std::string& stdinText, const std::string& ifName = "eth0",
                              const std::string& binary = plugin()) {
    std::string script = "(";
    std::vector<fs::path> outs;
    std::vector<fs::path> errs;
    std::vector<fs::path> rcs;
    for (const auto& call : calls) {
      int n = runs++;
      fs::path in = dir.path / ("in-" + std::to_string(n));
      outs.push_back(dir.path / ("out-" + std::to_string(n)));
      errs.push_back(dir.path / ("err-" + std::to_string(n)));
      rcs.push_back(dir.path / ("rc-" + std::to_string(n)));
      std::ofstream(in) << stdinText;
      std::string env = "CNI_COMMAND=" + command + " CNI_CONTAINERID=" + call.containerID +
                        " CNI_IFNAME=" + ifName + " CNI_PATH=" + cniPath;
      if (!call.netns.empty()) env += " CNI_NETNS=" + call.netns;
      if (!call.cniArgs.empty())
        env += " 'CNI_ARGS=" + call.cniArgs + "'";
      else if (!call.pod.empty())
        env += " 'CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=" + call.pod +
               ";K8S_POD_INFRA_CONTAINER_ID=" + call.containerID + ";K8S_POD_UID=uid-" + call.pod + "'";
      script += "(ip netns exec " + node.name() + " env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin " + env + " " +
                binary + " <" + in.string() + " >" + outs.back().string() + " 2>" + errs.back().string() +
                "; echo $? >" + rcs.back().string() + ") & ";
    }
    // In a subshell: shell() appends its own 2>&1, which must not fold stderr into stdout.
    script += "wait)";
    shell(script);
    std::vector<Outcome> outcomes;
    for (size_t i = 0; i < calls.size(); ++i) {
      std::string rc = readFile(rcs[i]);
      outcomes.push_back(Outcome{rc.empty() ? -1 : std::stoi(rc), readFile(outs[i]), readFile(errs[i])});
    }
    return outcomes;
  }

  Outcome run(const std::string& command, const std::string& containerID, const std::string& netns,
              const std::string& pod, const std::string& stdinText, const std::string& ifName = "eth0",
              const std::string& binary = plugin()) {
    return runAll(command, {{containerID, netns, pod}}, stdinText, ifName, binary).front();
  }

  bool hasLink(const std::string& ns, const std::string& name) const {
    return shell("ip -n " + ns + " link show dev " + name + " >/dev/null 2>&1").exitCode == 0;
  }
  std::string sysctl(const std::string& path) const {
    auto r = node.exec("cat /proc/sys/net/" + path);
    return r.exitCode == 0 ? r.output.substr(0, r.output.find('\n')) : "<" + r.output + ">";
  }
  std::optional<tartan::model::WorkloadEndpoint> endpoint(const std::string& name) {
    auto kv = store->get({"WorkloadEndpoint", "default", name});
    if (!kv) return std::nullopt;
    auto decoded = tartan::model::decode(kv->value, name);
    REQUIRE(decoded.ok());
    return std::get<tartan::model::WorkloadEndpoint>(decoded.resources.front());
  }
  std::vector<std::string> allocated(const std::string& containerID) {
    tartan::ipam::Ipam ipam(*store);
    auto ips = ipam.ipsByHandle(tartan::ipam::podHandleID(containerID));
    return ips ? *ips : std::vector<std::string>{};
  }
  // Every cali* interface of the node.
  std::string caliLinks() const {
    return node.exec("ip -o link show | grep -o 'cali[0-9a-f]*' || true").output;
  }
};

inline const char* kPools = R"(
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool4}
spec: {cidr: 10.65.0.0/24, blockSize: 26}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool6}
spec: {cidr: "fd00:65::/120", blockSize: 122}
)";

// One TCP connection from `client` to `ip`:`port` in `server`, retried for up to 30 s. The
// listener accepts one connection and ends (or its timeout ends it).
// With a connect address and port: the listener is at ip:port, the client dials those instead.
inline bool tcpReaches(const NetNamespace& client, const NetNamespace& server, const std::string& ip,
                       int port, std::string connectIp = "", int connectPort = 0) {
  if (connectIp.empty()) connectIp = ip;
  if (connectPort == 0) connectPort = port;
  auto bracket = [](const std::string& a) { return a.find(':') != std::string::npos ? "[" + a + "]" : a; };
  bool v6 = ip.find(':') != std::string::npos;
  server.execOrThrow(std::string("timeout 30 socat -u ") + (v6 ? "TCP6" : "TCP4") +
                     "-LISTEN:" + std::to_string(port) + ",bind=" + bracket(ip) +
                     ",reuseaddr OPEN:/dev/null >/dev/null 2>&1 &");
  auto r = client.exec(std::string("for i in $(seq 50); do echo hello | timeout 2 socat -u STDIN ") +
                       (v6 ? "TCP6:" : "TCP4:") + bracket(connectIp) + ":" + std::to_string(connectPort) +
                       " 2>/dev/null && exit 0; sleep 0.2; done; exit 1");
  if (r.exitCode != 0) {
    // What the failure's next assertion reports: both ends' addresses, routes and neighbours.
    const std::string family = v6 ? "-6" : "-4";
    for (const NetNamespace* ns : {&client, &server})
      UNSCOPED_INFO(ns->name() << ":\n"
                               << ns->exec("ip " + family + " addr; ip " + family + " route; ip " + family +
                                           " neigh; ss -tlnp")
                                      .output);
  }
  return r.exitCode == 0;
}

inline std::string addressOf(const json& result, char family) {
  for (const auto& ip : result["ips"]) {
    std::string address = ip["address"].get<std::string>();
    bool v6 = address.find(':') != std::string::npos;
    if (v6 == (family == '6')) return address.substr(0, address.find('/'));
  }
  return {};
}

}  // namespace cni_kernel
