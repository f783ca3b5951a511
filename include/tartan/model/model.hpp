// tartan/model/model.hpp — the resource model: every kind Tartan reads, as typed C++ values,
// with a strict decoder, a deterministic encoder and Calico's validation and defaults.
//
// What it does: decode() turns YAML or JSON manifests (one or many documents) into Resources,
// rejecting unknown fields, wrong types, duplicate keys and everything Calico's validator
// rejects, each error naming "source:line:column" and the field path
// ("spec.ingress[0].destination.ports[1]"); then it applies Calico's defaults. encodeYaml() and
// encodeJson() write a Resource back with a fixed key order (the order of Calico's Go structs),
// leaving out absent optional fields, so that decode(encode(x)) == x and encoding is
// byte-for-byte stable.
// Kinds and fields are those of Calico's projectcalico.org/v3 API, so a Calico manifest decodes
// unchanged; Tartan kinds are written as tartan.dev/v1, and projectcalico.org/v3 (and
// crd.projectcalico.org/v1 for the IPAM kinds, FelixConfiguration for AgentConfiguration) is
// accepted on input. Kubernetes kinds keep their own apiVersion.
// Owns: nothing shared. Every function is pure; Resources are plain values.
// Threading: any function may be called from any thread.
// Failure: bad input is returned as tartan::Error values, never thrown; decode() returns every
// error it finds, and a caller that writes anything should write nothing if there is one.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/model/agent_configuration.hpp"
#include "tartan/model/bgp.hpp"
#include "tartan/model/endpoints.hpp"
#include "tartan/model/ipam.hpp"
#include "tartan/model/ippool.hpp"
#include "tartan/model/kind.hpp"
#include "tartan/model/kubernetes.hpp"
#include "tartan/model/network_sets.hpp"
#include "tartan/model/node.hpp"
#include "tartan/model/policy.hpp"
#include "tartan/model/staged.hpp"
#include "tartan/model/types.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tartan::model {

// One resource of any kind. The alternatives are in the order of the Kind enum.
using Resource =
    std::variant<GlobalNetworkPolicy, NetworkPolicy, Tier, GlobalNetworkSet, NetworkSet, HostEndpoint,
                 WorkloadEndpoint, IPPool, BGPConfiguration, BGPPeer, BGPFilter, Node, AgentConfiguration,
                 IPAMBlock, BlockAffinity, IPAMHandle, IPAMConfiguration, IPReservation,
                 StagedGlobalNetworkPolicy, StagedNetworkPolicy, StagedKubernetesNetworkPolicy,
                 ClusterInformation, KubernetesNamespace, KubernetesPod, KubernetesServiceAccount,
                 KubernetesNode, KubernetesNetworkPolicy, KubernetesService, KubernetesEndpointSlice>;

Kind kindOf(const Resource& resource);

// The kind's name as a manifest spells it ("GlobalNetworkPolicy"; "Namespace", "Pod",
// "ServiceAccount", "Node", "NetworkPolicy", "Service", "EndpointSlice" for the Kubernetes kinds).
std::string_view kindName(Kind kind);

// The apiVersion written for the kind: "tartan.dev/v1", "v1", "networking.k8s.io/v1" or
// "discovery.k8s.io/v1".
std::string_view apiVersion(Kind kind);

// Finds a kind by what a person types on a command line: the kind name, its plural, or Calico's
// short names (gnp, np, netset, gns, hep, wep, ippool, bgppeer, bgpconfig, ...), in any case.
// "node" and "networkpolicy" mean the Tartan kinds; the Kubernetes kinds are reached as
// "k8snode", "k8snetworkpolicy" (or "knp"), "namespace", "pod", "serviceaccount", "service"
// (or "svc"), "endpointslice".
std::optional<Kind> lookupKind(std::string_view name);

// Whether resources of the kind live in a namespace (NetworkPolicy, NetworkSet,
// WorkloadEndpoint and the Kubernetes Pod, ServiceAccount, NetworkPolicy, Service and
// EndpointSlice).
bool isNamespaced(Kind kind);

ObjectMeta& metadata(Resource& resource);
const ObjectMeta& metadata(const Resource& resource);

struct DecodeResult {
  std::vector<Resource> resources;  // in input order; empty if there is any error
  std::vector<Error> errors;        // every error found, in input order
  // Where each resource is, "source:line:column" of its metadata.name (or of the resource when it
  // has none), parallel to `resources`: for errors that concern a whole resource (a duplicate).
  std::vector<std::string> locations;
  bool ok() const { return errors.empty(); }
};

// Decodes every document of a YAML or JSON text (documents separated by "---"; a document of
// kind "List" or "<Kind>List" contributes its items), validates each resource and applies
// Calico's defaults. `source` names the input in errors ("policy.yaml"). A document over
// kMaxDocumentBytes or nested deeper than kMaxNesting (tartan/common/limits.hpp) is refused
// before it is parsed.
DecodeResult decode(std::string_view text, std::string_view source);

// Writes one resource as a YAML document (no leading "---", ends in a newline).
std::string encodeYaml(const Resource& resource);
// Writes resources as a multi-document YAML stream, documents separated by "---".
std::string encodeYaml(const std::vector<Resource>& resources);
// Writes one resource as pretty-printed JSON (two-space indent, ends in a newline).
std::string encodeJson(const Resource& resource);

// Calico's validation of a resource built in code, as decode() runs it after applyDefaults()
// (so call applyDefaults() first). Errors carry a field path but no position.
std::vector<Error> validate(const Resource& resource);

// Calico's defaults: policy tier "default" and types inferred from the rules, IPPool block size
// 26/122 and encapsulation modes Never, and the like. Idempotent.
void applyDefaults(Resource& resource);

}  // namespace tartan::model
