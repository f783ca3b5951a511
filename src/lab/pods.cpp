// Pods made and removed as a container runtime does it: a sandbox network namespace, then the
// node's CNI network configuration list run plugin by plugin (ADD in order, each given the
// previous result; DEL in reverse, given the cached result of ADD), inside the node's namespace.
#include "cluster_config.hpp"
#include "lab.hpp"
#include "lab_internal.hpp"
#include "process.hpp"
#include "tartan/datastore/datastore.hpp"
#include "tartan/syncer/syncer.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

namespace tartan::lab {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A runtime's container ID: 64 hex digits.
std::string newContainerId() {
  std::random_device random;
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 64; ++i) id += kHex[random() % 16];
  return id;
}

// CNI_PATH: where tartan-cni is, then the standard plugins.
std::string cniPath(const json& tools) {
  return fs::path(tools["cni"].get<std::string>()).parent_path().string() + ":" +
         tools.value("cniPluginDir", "/usr/lib/cni");
}

// The plugin binary for `type`, looked up in CNI_PATH as a runtime does.
Result<std::string> findPlugin(const std::string& type, const std::string& path) {
  for (size_t start = 0; start <= path.size();) {
    const auto colon = path.find(':', start);
    const std::string dir =
        path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    const std::string candidate = std::string(dir).append("/").append(type);
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0)
      return Result<std::string>(boost::system::in_place_value, candidate);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return makeError("CNI_PATH " + path, "", "no plugin '" + type + "'");
}

struct Sandbox {
  std::string node;       // the node's name
  std::string nodeNetns;  // where the plugins run
  std::string netns;      // the pod's
  std::string containerId;
  std::string podNamespace, podName;
};

// Runs one plugin of the chain; its stdout parsed. A failure is the plugin's error JSON (msg and
// details) as an error naming the plugin and command.
Result<json> runPlugin(State& state, const Sandbox& box, const std::string& command, const json& conf) {
  const json& tools = state.data()["tools"];
  const std::string path = cniPath(tools);
  const std::string type = conf.value("type", "");
  auto binary = findPlugin(type, path);
  if (!binary) return binary.error();
  auto out =
      runWithInput({"ip", "netns", "exec", box.nodeNetns, "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                    "CNI_COMMAND=" + command, "CNI_CONTAINERID=" + box.containerId,
                    "CNI_NETNS=/run/netns/" + box.netns, "CNI_IFNAME=eth0",
                    "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=" + box.podNamespace +
                        ";K8S_POD_NAME=" + box.podName + ";K8S_POD_INFRA_CONTAINER_ID=" + box.containerId,
                    "CNI_PATH=" + path, *binary},
                   conf.dump(), state.dir() + "/logs/cni-" + box.node + ".log");
  if (!out) return out.error();
  const std::string where = type + " " + command + " " + box.podNamespace + "/" + box.podName;
  json parsed = out->out.empty() ? json() : json::parse(out->out, nullptr, false);
  if (out->exitCode != 0) {
    if (parsed.is_object() && parsed.contains("msg"))
      return makeError(where, "",
                       "code " + std::to_string(parsed.value("code", 0)) + ": " + parsed.value("msg", "") +
                           (parsed.contains("details") ? " (" + parsed.value("details", "") + ")" : ""));
    return makeError(where, "", "exit " + std::to_string(out->exitCode) + ": " + out->out);
  }
  if (parsed.is_discarded()) return makeError(where, "", "printed no JSON result: " + out->out);
  return Result<json>(boost::system::in_place_value, std::move(parsed));
}

Result<json> readConflist(const json& node) {
  const std::string file = node["conflist"].get<std::string>();
  std::ifstream in(file);
  if (!in) return makeError(file, "", "cannot read the node's CNI configuration");
  try {
    return Result<json>(boost::system::in_place_value, json::parse(in));
  } catch (const json::exception& e) {
    return makeError(file, "", e.what());
  }
}

// DEL through the chain in reverse (libcni's DelNetworkList): the first failure stops it.
Result<void> delChain(State& state, const Sandbox& box, const json& list, const json& cachedResult,
                      const json& mappings) {
  for (size_t i = list["plugins"].size(); i-- > 0;) {
    auto r = runPlugin(state, box, "DEL", pluginConfig(list, i, cachedResult, mappings));
    if (!r) return r.error();
  }
  return {};
}

Sandbox sandboxOf(State& state, const json& pod) {
  const json* node = state.findNode(pod["node"].get<std::string>());
  return {pod["node"].get<std::string>(),      (*node)["netns"].get<std::string>(),
          pod["netns"].get<std::string>(),     pod["containerID"].get<std::string>(),
          pod["namespace"].get<std::string>(), pod["name"].get<std::string>()};
}

}  // namespace

Result<void> addPodTo(State& state, const LabPod& pod) {
  auto& d = state.data();
  const json* node = state.findNode(pod.node);
  if (!node) return makeError("--node", "", "no node '" + pod.node + "' in the lab");
  if (state.findPod(pod.namespaceName, pod.name))
    return makeError(pod.namespaceName + "/" + pod.name, "", "the lab already has this pod");
  const std::string name = d["name"].get<std::string>();
  json ports = json::array();
  for (const auto& p : pod.ports)
    ports.push_back({{"name", p.name}, {"port", p.port}, {"protocol", p.protocol}, {"hostPort", p.hostPort}});
  const json mappings = portMappings(pod.ports);
  d["pods"].push_back({{"namespace", pod.namespaceName},
                       {"name", pod.name},
                       {"node", pod.node},
                       {"netns", podNamespace(name, pod.namespaceName, pod.name)},
                       {"containerID", newContainerId()},
                       {"labels", pod.labels},
                       {"serviceAccount", pod.serviceAccount},
                       {"ports", ports},
                       {"portMappings", mappings},
                       {"ip", ""},
                       {"ip6", ""}});
  TARTAN_LAB_TRY(state.save());
  const Sandbox box = sandboxOf(state, d["pods"].back());
  TARTAN_LAB_TRY(makeNamespace(state, box.netns));

  // The API objects first, as the API server has them before the kubelet runs the sandbox.
  std::vector<model::Resource> resources;
  auto& known = d["kubernetesNamespaces"];
  if (std::find(known.begin(), known.end(), pod.namespaceName) == known.end()) {
    model::KubernetesNamespace ns;
    ns.metadata.name = pod.namespaceName;
    resources.emplace_back(std::move(ns));
    known.push_back(pod.namespaceName);
  }
  for (auto& r : podResources(pod, {})) resources.push_back(std::move(r));
  TARTAN_LAB_TRY(writeResources(state.dir(), resources));

  auto list = readConflist(*node);
  if (!list) return list.error();
  json result;
  for (size_t i = 0; i < (*list)["plugins"].size(); ++i) {
    json conf = pluginConfig(*list, i, result, mappings);
    if (i == 0 && (!pod.ip.empty() || !pod.ip6.empty())) {
      // Addresses the pod asks for, as a runtime passes them (the "ips" capability).
      json& ips = conf["runtimeConfig"]["ips"] = json::array();
      for (const std::string* ip : {&pod.ip, &pod.ip6})
        if (!ip->empty()) ips.push_back(*ip);
    }
    auto r = runPlugin(state, box, "ADD", conf);
    if (!r) {
      // A runtime that fails an ADD runs DEL through the whole chain, so nothing is left half made.
      (void)delChain(state, box, *list, result, mappings);
      return r.error();
    }
    result = *r;
  }
  std::vector<std::string> ips;
  json* record = state.findPod(pod.namespaceName, pod.name);
  (*record)["result"] = result;
  for (const auto& ip : result.value("ips", json::array())) {
    std::string address = ip.value("address", "");
    address = address.substr(0, address.find('/'));
    (*record)[address.find(':') == std::string::npos ? "ip" : "ip6"] = address;
    ips.push_back(address);
  }
  TARTAN_LAB_TRY(state.save());
  TARTAN_LAB_TRY(writeResources(state.dir(), podResources(pod, ips)));  // the Pod's status.podIPs

  if (!pod.ports.empty()) {
    std::vector<std::string> argv{"ip",   "netns", "exec", box.netns, d["tools"]["self"].get<std::string>(),
                                  "serve"};
    for (const auto& p : pod.ports) {
      argv.push_back(p.protocol == "UDP" ? "--udp" : "--tcp");
      argv.push_back(std::to_string(p.port));
    }
    auto pid = spawn(argv, state.dir() + "/logs/" + pod.namespaceName + "." + pod.name + ".log");
    if (!pid) return pid.error();
    TARTAN_LAB_TRY(state.addProcess("serve " + pod.namespaceName + "/" + pod.name, *pid));
  }
  std::cout << "  pod " << pod.namespaceName << "/" << pod.name << " on " << pod.node;
  for (const auto& ip : ips) std::cout << "  " << ip;
  for (const auto& m : mappings)
    std::cout << "  hostPort " << m["hostPort"].get<int>() << "->" << m["containerPort"].get<int>();
  std::cout << "  netns " << box.netns << "\n";
  return {};
}

Result<void> addPod(const std::string& stateDir, const LabPod& pod) {
  State state(stateDir);
  TARTAN_LAB_TRY(state.load());
  return addPodTo(state, pod);
}

Result<void> delPod(const std::string& stateDir, const std::string& ns, const std::string& name) {
  State state(stateDir);
  TARTAN_LAB_TRY(state.load());
  auto& d = state.data();
  json* pod = state.findPod(ns, name);
  if (!pod) return makeError(ns + "/" + name, "", "no such pod in the lab");
  const Sandbox box = sandboxOf(state, *pod);
  const json* node = state.findNode(box.node);
  TARTAN_LAB_TRY(state.stopRole("serve " + ns + "/" + name, 2000));
  auto list = readConflist(*node);
  if (!list) return list.error();
  TARTAN_LAB_TRY(
      delChain(state, box, *list, pod->value("result", json()), pod->value("portMappings", json::array())));

  // The Pod goes from the API once its sandbox is torn down.
  auto store = datastore::open(datastoreSpec(stateDir));
  if (!store) return store.error().error;
  if (auto removed = (*store)->remove(syncer::keyOf(model::Kind::kKubernetesPod, ns, name));
      !removed && removed.error().kind != datastore::ErrorKind::NotFound)
    return removed.error().error;
  if (fs::exists("/run/netns/" + box.netns)) TARTAN_LAB_TRY(run({"ip", "netns", "del", box.netns}));
  auto& namespaces = d["namespaces"];
  namespaces.erase(std::remove(namespaces.begin(), namespaces.end(), box.netns), namespaces.end());
  auto& pods = d["pods"];
  pods.erase(std::remove_if(pods.begin(), pods.end(),
                            [&](const json& p) { return p["namespace"] == ns && p["name"] == name; }),
             pods.end());
  TARTAN_LAB_TRY(state.save());
  return {};
}

}  // namespace tartan::lab
