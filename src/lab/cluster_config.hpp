// src/lab/cluster_config.hpp — what tartan-lab writes for a cluster, as values: the datastore's
// resources, BIRD's configuration for the top-of-rack router, each node's CNI network
// configuration and the per-plugin configuration a runtime derives from it, and the reading of
// `tartanctl node status`. Pure: no I/O; the shell (lab.cpp, pods.cpp) writes and runs them.
//
// The cluster's BGP shape (Calico's "AS per cluster" with a ToR):
//  - BGPConfiguration "default": the lab's asNumber, node-to-node mesh on;
//  - Node per lab node: its fabric addresses (spec.bgp.ipv4Address/ipv6Address), its asNumber if
//    given, its labels;
//  - BGPPeer "tor-v4"/"tor-v6": nodeSelector all(), the ToR's fabric address and AS, so every
//    node peers with it (one session per family, as Calico's BIRD/BIRD6 pair);
//  - BIRD on the ToR: one eBGP protocol per node and family, importing everything the nodes send
//    (their IPAM blocks, into the ToR's kernel) and exporting only a default route and the outside
//    network (static blackholes kept out of its own kernel), so the nodes learn both from it.
#pragma once

#include "lab_file.hpp"
#include "tartan/model/model.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tartan::lab {

// Cluster-wide resources: BGPConfiguration, Nodes, IPPools, the ToR's BGPPeers, Namespaces.
std::vector<model::Resource> clusterResources(const LabFile& lab);

// A pod's Pod resource (labels, node, containers and ports; podIPs once known) and, if it names
// one, its ServiceAccount.
std::vector<model::Resource> podResources(const LabPod& pod, const std::vector<std::string>& podIPs);

// bird.conf for the ToR.
std::string birdConfig(const LabFile& lab);
// BIRD's protocol name for a node's session of a family ("n_node_1_v4").
std::string birdProtocol(const std::string& node, int family);

// The node's CNI network configuration list, as a runtime reads it from /etc/cni/net.d: tartan-cni
// (calico-ipam, nodename, the datastore) then portmap.
// ipamLockFile: the node's IPAM lock (Calico's ipam_lock_file), kept in the lab's state dir so the
// lab never writes the host's /var/run/calico.
nlohmann::json conflist(const LabFile& lab, const std::string& node, const std::string& datastore,
                        const std::string& ipamLockFile);

// The configuration a runtime gives plugin `index` of `list` (CNI spec §"Network configuration
// lists"): the plugin's object with the list's cniVersion and name, prevResult when there is one
// (the result of the plugin before it; for DEL the cached result of ADD), and runtimeConfig for
// each capability the plugin declares that the runtime fills (portMappings: `portMappings`).
nlohmann::json pluginConfig(const nlohmann::json& list, size_t index, const nlohmann::json& prevResult,
                            const nlohmann::json& portMappings);

// The runtime's portMappings for a pod's host ports (CNI's portMappings capability).
nlohmann::json portMappings(const std::vector<LabPort>& ports);

// A BGP session as `tartanctl node status` lists it.
struct PeerState {
  std::string address;
  std::string type;
  std::string state;
  bool operator==(const PeerState&) const = default;
};
// The rows of the BGP peers table of `tartanctl node status` (the header row left out).
std::vector<PeerState> parseNodeStatus(const std::string& output);

}  // namespace tartan::lab
