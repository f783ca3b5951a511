// The cluster's resources, BIRD's configuration and the CNI configurations, as values.
#include "cluster_config.hpp"

#include <sstream>

namespace tartan::lab {
using json = nlohmann::json;

namespace {

model::Resource withDefaults(model::Resource r) {
  model::applyDefaults(r);
  return r;
}

bool hasFamily(const LabFile& lab, int family) {
  for (const auto& pool : lab.pools)
    if (pool.family == family) return true;
  return false;
}

}  // namespace

std::vector<model::Resource> clusterResources(const LabFile& lab) {
  std::vector<model::Resource> out;
  model::BGPConfiguration config;
  config.metadata.name = "default";
  config.spec.asNumber = model::ASNumber{lab.asNumber};
  config.spec.nodeToNodeMeshEnabled = true;
  out.push_back(withDefaults(config));

  for (const auto& n : lab.nodes) {
    model::Node node;
    node.metadata.name = n.name;
    node.metadata.labels = {n.labels.begin(), n.labels.end()};
    model::NodeBGPSpec bgp;
    bgp.ipv4Address = n.ipv4;
    bgp.ipv6Address = n.ipv6;
    if (n.asNumber != 0) bgp.asNumber = model::ASNumber{n.asNumber};
    node.spec.bgp = bgp;
    out.push_back(withDefaults(node));
  }
  for (const auto& p : lab.pools) {
    model::IPPool pool;
    pool.metadata.name = p.name;
    pool.spec.cidr = p.cidr;
    pool.spec.blockSize = p.blockSize;
    pool.spec.natOutgoing = p.natOutgoing;
    pool.spec.nodeSelector = "all()";
    out.push_back(withDefaults(pool));
  }
  for (const auto& [family, address] : {std::pair{4, &lab.tor.ipv4}, std::pair{6, &lab.tor.ipv6}}) {
    if (address->address.empty()) continue;
    model::BGPPeer peer;
    peer.metadata.name = "tor-v" + std::to_string(family);
    peer.spec.nodeSelector = "all()";
    peer.spec.peerIP = address->address;
    peer.spec.asNumber = model::ASNumber{lab.tor.asNumber};
    out.push_back(withDefaults(peer));
  }
  for (const auto& ns : lab.namespaces) {
    model::KubernetesNamespace n;
    n.metadata.name = ns.name;
    n.metadata.labels = {ns.labels.begin(), ns.labels.end()};
    out.emplace_back(std::move(n));
  }
  return out;
}

std::vector<model::Resource> podResources(const LabPod& pod, const std::vector<std::string>& podIPs) {
  std::vector<model::Resource> out;
  if (!pod.serviceAccount.empty()) {
    model::KubernetesServiceAccount sa;
    sa.metadata.name = pod.serviceAccount;
    sa.metadata.namespaceName = pod.namespaceName;
    out.emplace_back(std::move(sa));
  }
  model::KubernetesPod p;
  p.metadata.name = pod.name;
  p.metadata.namespaceName = pod.namespaceName;
  p.metadata.labels = {pod.labels.begin(), pod.labels.end()};
  p.spec.nodeName = pod.node;
  p.spec.serviceAccountName = pod.serviceAccount;
  model::Container c;
  c.name = "server";
  for (const auto& port : pod.ports)
    c.ports.push_back(model::ContainerPort{port.name, port.port, port.protocol, port.hostPort, ""});
  p.spec.containers.push_back(std::move(c));
  p.status.phase = podIPs.empty() ? "Pending" : "Running";
  if (!podIPs.empty()) p.status.podIP = podIPs.front();
  for (const auto& ip : podIPs) p.status.podIPs.push_back(model::PodIP{ip});
  out.emplace_back(std::move(p));
  return out;
}

std::string birdProtocol(const std::string& node, int family) {
  std::string name = "n_";
  for (char c : node) name += c == '-' ? '_' : c;
  return name + "_v" + std::to_string(family);
}

std::string birdConfig(const LabFile& lab) {
  std::ostringstream out;
  out << "# The lab's top-of-rack router: eBGP with every node, a default route and the outside\n"
      << "# network announced to them, their blocks imported into this namespace's kernel.\n"
      << "log stderr all;  # the lab keeps it in logs/bird.log\n"
      << "router id " << lab.tor.ipv4.address << ";\n"
      << "protocol device { scan time 2; }\n";
  for (int family : {4, 6}) {
    const auto& fabric = family == 4 ? lab.tor.ipv4 : lab.tor.ipv6;
    if (fabric.address.empty()) continue;
    const std::string v = "ipv" + std::to_string(family);
    const auto& outside = family == 4 ? lab.outside.ipv4 : lab.outside.ipv6;
    out << "protocol kernel kernel" << family << " {\n  merge paths on;\n  " << v
        << " { import none; export where source = RTS_BGP; };\n}\n";
    out << "protocol static announce" << family << " {\n  " << v << ";\n  route "
        << (family == 4 ? "0.0.0.0/0" : "::/0") << " blackhole;\n";
    if (!outside.address.empty()) out << "  route " << outside.network << " blackhole;\n";
    out << "}\n";
  }
  out << "template bgp node {\n  local as " << lab.tor.asNumber << ";\n"
      << "  hold time 9; connect retry time 2; error wait time 1, 4;\n  graceful restart on;\n}\n";
  for (const auto& node : lab.nodes) {
    const uint32_t as = node.asNumber != 0 ? node.asNumber : lab.asNumber;
    for (int family : {4, 6}) {
      const std::string& address = family == 4 ? node.ipv4 : node.ipv6;
      if (address.empty()) continue;
      const std::string v = "ipv" + std::to_string(family);
      out << "protocol bgp " << birdProtocol(node.name, family) << " from node {\n  neighbor "
          << address.substr(0, address.find('/')) << " as " << as << ";\n  " << v
          << " { import all; export where proto = \"announce" << family << "\"; };\n}\n";
    }
  }
  return out.str();
}

json conflist(const LabFile& lab, const std::string& node, const std::string& datastore,
              const std::string& ipamLockFile) {
  json ipam{{"type", "calico-ipam"},
            {"assign_ipv4", hasFamily(lab, 4) ? "true" : "false"},
            {"assign_ipv6", hasFamily(lab, 6) ? "true" : "false"}};
  return json{
      {"cniVersion", "1.0.0"},
      {"name", "k8s-pod-network"},
      {"plugins",
       json::array({json{{"type", "tartan-cni"},
                         {"nodename", node},
                         {"datastore", datastore},
                         {"mtu", 1500},
                         {"ipam_lock_file", ipamLockFile},
                         {"ipam", ipam}},
                    json{{"type", "portmap"}, {"snat", true}, {"capabilities", {{"portMappings", true}}}}})}};
}

json pluginConfig(const json& list, size_t index, const json& prevResult, const json& portMappings) {
  json conf = list.at("plugins").at(index);
  conf["cniVersion"] = list.at("cniVersion");
  conf["name"] = list.at("name");
  if (!prevResult.is_null()) conf["prevResult"] = prevResult;
  if (auto caps = conf.find("capabilities"); caps != conf.end()) {
    if (caps->value("portMappings", false))
      conf["runtimeConfig"]["portMappings"] = portMappings.is_null() ? json::array() : portMappings;
  }
  return conf;
}

json portMappings(const std::vector<LabPort>& ports) {
  json out = json::array();
  for (const auto& p : ports) {
    if (p.hostPort == 0) continue;
    std::string protocol = p.protocol;
    for (auto& c : protocol) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.push_back({{"hostPort", p.hostPort}, {"containerPort", p.port}, {"protocol", protocol}});
  }
  return out;
}

std::vector<PeerState> parseNodeStatus(const std::string& output) {
  std::vector<PeerState> out;
  std::istringstream in(output);
  bool inPeers = false, header = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "BGP peers") {
      inPeers = header = true;
      continue;
    }
    if (!inPeers) continue;
    if (line.empty()) break;
    if (line.front() != '|') continue;
    std::vector<std::string> cells;
    std::istringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) {
      const auto first = cell.find_first_not_of(' ');
      const auto last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    }
    if (header) {
      header = false;
      continue;
    }
    if (cells.size() >= 3) out.push_back({cells[0], cells[1], cells[2]});
  }
  return out;
}

}  // namespace tartan::lab
