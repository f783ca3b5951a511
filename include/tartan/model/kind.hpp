// tartan/model/kind.hpp — the closed set of resource kinds Tartan reads and writes.
#pragma once

namespace tartan::model {

enum class Kind {
  // Tartan kinds (tartan.dev/v1; projectcalico.org/v3 accepted on input).
  kGlobalNetworkPolicy,
  kNetworkPolicy,
  kTier,
  kGlobalNetworkSet,
  kNetworkSet,
  kHostEndpoint,
  kWorkloadEndpoint,
  kIPPool,
  kBGPConfiguration,
  kBGPPeer,
  kBGPFilter,
  kNode,
  kAgentConfiguration,
  kIPAMBlock,
  kBlockAffinity,
  kIPAMHandle,
  kIPAMConfiguration,
  kIPReservation,
  kStagedGlobalNetworkPolicy,  // stored and shown, never enforced
  kStagedNetworkPolicy,
  kStagedKubernetesNetworkPolicy,
  kClusterInformation,
  // Kubernetes kinds, read as Kubernetes writes them.
  kKubernetesNamespace,
  kKubernetesPod,
  kKubernetesServiceAccount,
  kKubernetesNode,
  kKubernetesNetworkPolicy,
  kKubernetesService,
  kKubernetesEndpointSlice,
};

}  // namespace tartan::model
