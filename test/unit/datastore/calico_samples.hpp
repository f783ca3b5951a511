// calico_samples.hpp — one valid document of every kind Calico stores as a custom resource, for
// the layout's and the Kubernetes datastore's tests.
#pragma once

#include "tartan/model/kind.hpp"

#include <string>
#include <vector>

namespace tartan::test {

using model::Kind;

// One valid document of every kind Calico stores as a custom resource.
struct Sample {
  Kind kind;
  std::string document;
};

inline const std::vector<Sample>& samples() {
  static const std::vector<Sample> all = {
      {Kind::kGlobalNetworkPolicy,
       "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: allow-dns\n"
       "  labels: {team: net}\n  annotations: {note: keep}\n  creationTimestamp: '2024-01-02T03:04:05Z'\n"
       "spec:\n  order: 10\n  selector: all()\n  egress:\n  - action: Allow\n    protocol: UDP\n"
       "    destination: {ports: [53]}\n"},
      {Kind::kNetworkPolicy,
       "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: sec.web, namespace: prod}\n"
       "spec:\n  tier: sec\n  selector: app == 'web'\n  ingress: [{action: Deny}]\n"},
      {Kind::kTier,
       "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: sec}\nspec: {order: 100}\n"},
      {Kind::kGlobalNetworkSet,
       "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: blocked, labels: {x: y}}\n"
       "spec: {nets: [192.0.2.0/24]}\n"},
      {Kind::kNetworkSet,
       "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata: {name: partners, namespace: prod}\n"
       "spec: {nets: [198.51.100.0/24]}\n"},
      {Kind::kHostEndpoint,
       "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: n1-eth0}\n"
       "spec: {node: n1, interfaceName: eth0, expectedIPs: [10.0.0.1]}\n"},
      {Kind::kIPPool,
       "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: pool-a}\n"
       "spec: {cidr: 10.244.0.0/16, natOutgoing: true}\n"},
      {Kind::kBGPConfiguration,
       "apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\n"
       "spec: {asNumber: 64512, nodeToNodeMeshEnabled: true}\n"},
      {Kind::kBGPPeer,
       "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: tor}\n"
       "spec: {peerIP: 10.0.0.254, asNumber: 64513}\n"},
      {Kind::kBGPFilter,
       "apiVersion: projectcalico.org/v3\nkind: BGPFilter\nmetadata: {name: only-pods}\n"
       "spec:\n  exportV4: [{action: Accept, matchOperator: In, cidr: 10.244.0.0/16}]\n"},
      {Kind::kAgentConfiguration,
       "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\n"
       "spec: {logSeverityScreen: Info}\n"},
      {Kind::kIPAMBlock,
       "apiVersion: crd.projectcalico.org/v1\nkind: IPAMBlock\nmetadata: {name: 10-244-0-0-30}\n"
       "spec:\n  cidr: 10.244.0.0/30\n  affinity: host:n1\n  strictAffinity: false\n"
       "  allocations: [0, null, null, null]\n  unallocated: [1, 2, 3]\n"
       "  attributes: [{handle_id: k8s-pod-network.abc, secondary: {node: n1, pod: web-0}}]\n"
       "  deleted: false\n"},
      {Kind::kBlockAffinity,
       "apiVersion: crd.projectcalico.org/v1\nkind: BlockAffinity\nmetadata: {name: n1-10-244-0-0-30}\n"
       "spec: {state: confirmed, node: n1, cidr: 10.244.0.0/30, deleted: 'false'}\n"},
      {Kind::kIPAMHandle,
       "apiVersion: crd.projectcalico.org/v1\nkind: IPAMHandle\nmetadata: {name: k8s-pod-network.abc}\n"
       "spec: {handleID: k8s-pod-network.abc, block: {10.244.0.0/30: 1}}\n"},
      {Kind::kIPAMConfiguration,
       "apiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata: {name: default}\n"
       "spec: {strictAffinity: true, autoAllocateBlocks: true}\n"},
      {Kind::kIPReservation,
       "apiVersion: projectcalico.org/v3\nkind: IPReservation\nmetadata: {name: keep-out}\n"
       "spec: {reservedCIDRs: [10.244.0.0/28]}\n"},
      {Kind::kStagedGlobalNetworkPolicy,
       "apiVersion: projectcalico.org/v3\nkind: StagedGlobalNetworkPolicy\nmetadata: {name: trial}\n"
       "spec: {selector: all(), ingress: [{action: Allow}]}\n"},
      {Kind::kStagedNetworkPolicy,
       "apiVersion: projectcalico.org/v3\nkind: StagedNetworkPolicy\nmetadata: {name: trial, namespace: "
       "prod}\n"
       "spec: {selector: all(), ingress: [{action: Allow}]}\n"},
      {Kind::kStagedKubernetesNetworkPolicy,
       "apiVersion: projectcalico.org/v3\nkind: StagedKubernetesNetworkPolicy\n"
       "metadata: {name: trial, namespace: prod}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n"},
      {Kind::kClusterInformation,
       "apiVersion: projectcalico.org/v3\nkind: ClusterInformation\nmetadata: {name: default}\n"
       "spec: {clusterGUID: 0123456789abcdef, datastoreReady: true}\n"},
  };
  return all;
}

}  // namespace tartan::test
