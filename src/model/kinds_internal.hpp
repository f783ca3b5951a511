// kinds_internal.hpp (private) — the per-kind entry points each kind group's file defines, so
// that the describe() templates of a group are instantiated in that group's file only.
#pragma once

#include "codec.hpp"
#include "schema_writer.hpp"
#include "tartan/model/model.hpp"

namespace tartan::model {

#define TARTAN_MODEL_KIND_ENTRY_POINTS(Type)                                                   \
  void decodeResource(Decoder& d, const YAML::Node& node, const std::string& path, Type& out); \
  Tree encodeResource(const Type& value);                                                      \
  Tree schemaResource(const Type& value);

TARTAN_MODEL_KIND_ENTRY_POINTS(GlobalNetworkPolicy)
TARTAN_MODEL_KIND_ENTRY_POINTS(NetworkPolicy)
TARTAN_MODEL_KIND_ENTRY_POINTS(Tier)
TARTAN_MODEL_KIND_ENTRY_POINTS(GlobalNetworkSet)
TARTAN_MODEL_KIND_ENTRY_POINTS(NetworkSet)
TARTAN_MODEL_KIND_ENTRY_POINTS(HostEndpoint)
TARTAN_MODEL_KIND_ENTRY_POINTS(WorkloadEndpoint)
TARTAN_MODEL_KIND_ENTRY_POINTS(IPPool)
TARTAN_MODEL_KIND_ENTRY_POINTS(BGPConfiguration)
TARTAN_MODEL_KIND_ENTRY_POINTS(BGPPeer)
TARTAN_MODEL_KIND_ENTRY_POINTS(BGPFilter)
TARTAN_MODEL_KIND_ENTRY_POINTS(Node)
TARTAN_MODEL_KIND_ENTRY_POINTS(AgentConfiguration)
TARTAN_MODEL_KIND_ENTRY_POINTS(IPAMBlock)
TARTAN_MODEL_KIND_ENTRY_POINTS(BlockAffinity)
TARTAN_MODEL_KIND_ENTRY_POINTS(IPAMHandle)
TARTAN_MODEL_KIND_ENTRY_POINTS(IPAMConfiguration)
TARTAN_MODEL_KIND_ENTRY_POINTS(IPReservation)
TARTAN_MODEL_KIND_ENTRY_POINTS(StagedGlobalNetworkPolicy)
TARTAN_MODEL_KIND_ENTRY_POINTS(StagedNetworkPolicy)
TARTAN_MODEL_KIND_ENTRY_POINTS(StagedKubernetesNetworkPolicy)
TARTAN_MODEL_KIND_ENTRY_POINTS(ClusterInformation)
TARTAN_MODEL_KIND_ENTRY_POINTS(KubernetesNamespace)
TARTAN_MODEL_KIND_ENTRY_POINTS(KubernetesPod)
TARTAN_MODEL_KIND_ENTRY_POINTS(KubernetesServiceAccount)
TARTAN_MODEL_KIND_ENTRY_POINTS(KubernetesNode)
TARTAN_MODEL_KIND_ENTRY_POINTS(KubernetesNetworkPolicy)
TARTAN_MODEL_KIND_ENTRY_POINTS(KubernetesService)
TARTAN_MODEL_KIND_ENTRY_POINTS(KubernetesEndpointSlice)

#undef TARTAN_MODEL_KIND_ENTRY_POINTS

// Whether the decoder ignores unknown fields of the kind (the Kubernetes kinds whose other
// fields come from Kubernetes, not from users).
bool isLenientKind(Kind kind);

// Defines a kind's entry points from its describe() (a resource describes its own metadata and
// spec; typeMeta() stands for apiVersion and kind). schemaResource() ignores its argument's value.
#define TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(Type)                                             \
  void decodeResource(Decoder& d, const YAML::Node& node, const std::string& path, Type& out) { \
    decodeStruct(d, node, path, out);                                                           \
  }                                                                                             \
  Tree encodeResource(const Type& value) { return encodeStruct(value); }                        \
  Tree schemaResource(const Type& value) { return schemaValue(value); }

}  // namespace tartan::model
